// The HTML report's two small scripts (internal to src/report): error capture, which runs
// before anything else, and the chart runner, which embeds each spec and records on
// <body> how many charts rendered and what failed.
#pragma once

#include <string_view>

namespace jouleperf::report::detail {

inline constexpr std::string_view kErrorCaptureScript = R"JS((function () {
  var errors = [];
  window.jpRecordError = function (message) {
    errors.push(String(message));
    document.body.setAttribute('data-errors', errors.join(' | '));
    document.body.setAttribute('data-error-count', String(errors.length));
  };
  window.addEventListener('error', function (e) {
    window.jpRecordError('error: ' + (e.message || 'script error') + (e.lineno ? ' (line ' + e.lineno + ')' : ''));
  });
  window.addEventListener('unhandledrejection', function (e) {
    var r = e.reason;
    window.jpRecordError('unhandled rejection: ' + (r && r.message ? r.message : String(r)));
  });
  var consoleError = console.error;
  console.error = function () {
    window.jpRecordError('console.error: ' + Array.prototype.map.call(arguments, String).join(' '));
    return consoleError.apply(console, arguments);
  };
})();
)JS";

inline constexpr std::string_view kChartRunnerScript = R"JS((function () {
  var body = document.body;
  var nodes = document.querySelectorAll('script[type="application/json"][data-chart]');
  var pending = nodes.length;
  var rendered = 0;
  function settle() {
    pending -= 1;
    if (pending === 0) body.setAttribute('data-done', '1');
  }
  if (typeof vegaEmbed !== 'function') {
    window.jpRecordError('vegaEmbed is not defined: the chart scripts did not load');
    body.setAttribute('data-done', '1');
    return;
  }
  if (pending === 0) body.setAttribute('data-done', '1');
  Array.prototype.forEach.call(nodes, function (node) {
    var id = node.getAttribute('data-chart');
    var target = document.getElementById(id);
    var spec;
    try {
      spec = JSON.parse(node.textContent);
    } catch (e) {
      window.jpRecordError(id + ': spec is not JSON: ' + e.message);
      settle();
      return;
    }
    vegaEmbed(target, spec, {actions: false, renderer: 'svg', mode: 'vega-lite'}).then(function (result) {
      if (target.querySelector('svg') && result && result.view) {
        rendered += 1;
        target.setAttribute('data-rendered', '1');
        body.setAttribute('data-charts-rendered', String(rendered));
      } else {
        window.jpRecordError(id + ': embedded but no <svg> was drawn');
      }
      settle();
    }).catch(function (e) {
      window.jpRecordError(id + ': ' + (e && e.message ? e.message : String(e)));
      settle();
    });
  });
})();
)JS";

}  // namespace jouleperf::report::detail
