// Validates Kubernetes manifests against the Kubernetes OpenAPI schema (the npm package
// kubernetes-models, pinned in package-lock.json), and checks the fields an Indexed Job
// of `jouleperf cluster k8s` relies on, by path (the schema lets unknown keys through).
// Usage: node validate_manifests.mjs NODE_MODULES_DIR FILE.yaml...
// Prints one line per object; exits 1 naming the object and the schema error.
import fs from 'node:fs';
import path from 'node:path';

const [modules, ...files] = process.argv.slice(2);
const load = (rel) => import(path.join(path.resolve(modules), rel));
const yaml = (await load('js-yaml/dist/js-yaml.mjs')).default;
const models = {
  'batch/v1/Job': (await load('kubernetes-models/batch/v1/Job.js')).Job,
  'v1/ConfigMap': (await load('kubernetes-models/v1/ConfigMap.js')).ConfigMap,
};

function need(cond, what, name) {
  if (!cond) throw new Error(`${name}: ${what}`);
}

// What an Indexed Job of jouleperf must say, beyond the schema.
function checkIndexedJob(job, name) {
  const spec = job.spec;
  need(spec.completionMode === 'Indexed', 'spec.completionMode is not Indexed', name);
  need(Number.isInteger(spec.completions) && spec.completions > 0, 'spec.completions', name);
  const pod = spec.template.spec;
  need(pod.restartPolicy === 'Never', 'restartPolicy is not Never', name);
  const anti = pod.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.[0];
  need(anti?.topologyKey === 'kubernetes.io/hostname', 'no pod anti-affinity per node', name);
  const labels = spec.template.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(anti.labelSelector.matchLabels))
    need(labels[k] === v, `the anti-affinity selector ${k}=${v} does not select the Job's own pods`, name);
  const c = pod.containers[0];
  const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e]));
  need(env.JOULEPERF_SHARD_COUNT?.value === String(spec.completions), 'JOULEPERF_SHARD_COUNT != completions', name);
  need(env.JOULEPERF_NODE_NAME?.valueFrom?.fieldRef?.fieldPath === 'spec.nodeName', 'no node name', name);
  const volumes = Object.fromEntries(pod.volumes.map((v) => [v.name, v]));
  for (const m of c.volumeMounts) need(volumes[m.name], `mount ${m.name} has no volume`, name);
  need(volumes['node-lock']?.hostPath?.path === '/run/jouleperf', 'the node lock is not on the node', name);
}

let failed = false;
for (const file of files) {
  for (const doc of yaml.loadAll(fs.readFileSync(file, 'utf8'))) {
    if (doc == null) continue;
    const name = `${file}: ${doc.kind} ${doc.metadata?.name}`;
    try {
      const Model = models[`${doc.apiVersion}/${doc.kind}`];
      need(Model, `no schema for ${doc.apiVersion} ${doc.kind}`, name);
      new Model(doc).validate();
      if (doc.kind === 'Job' && doc.spec?.completionMode !== undefined) checkIndexedJob(doc, name);
      console.log(`valid: ${name}`);
    } catch (e) {
      console.log(`INVALID: ${name}: ${e.message}`);
      failed = true;
    }
  }
}
process.exit(failed ? 1 : 0);
