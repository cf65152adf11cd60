// The calibrations' minimiser: finds the minimum of a smooth function, keeps to its budget
// (passing it by at most one step), counts every call, is repeatable, and treats points
// the objective cannot evaluate (+infinity) as worse than any other; the best of several
// starts.
#include "jouleperf/sim/nelder_mead.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace jouleperf::sim {
namespace {

double rosenbrock(const std::vector<double>& x) {
  double s = 0.0;
  for (std::size_t i = 0; i + 1 < x.size(); ++i) {
    const double a = x[i + 1] - x[i] * x[i];
    const double b = 1.0 - x[i];
    s += 100.0 * a * a + b * b;
  }
  return s;
}

TEST(NelderMead, FindsTheMinimumOfAQuadraticBowl) {
  auto bowl = [](const std::vector<double>& x) { return std::pow(x[0] - 3.0, 2) + 2.0 * std::pow(x[1] + 1.0, 2); };
  NelderMeadOptions o;
  o.max_evaluations = 2000;
  const auto r = nelder_mead(bowl, {0.0, 0.0}, o);
  EXPECT_NEAR(r.x[0], 3.0, 1e-4);
  EXPECT_NEAR(r.x[1], -1.0, 1e-4);
  EXPECT_NEAR(r.value, 0.0, 1e-8);
  EXPECT_LT(r.evaluations, 2000u) << "converged before the budget";
}

TEST(NelderMead, CountsEveryCallAndKeepsToItsBudget) {
  std::uint32_t calls = 0;
  auto counted = [&](const std::vector<double>& x) {
    ++calls;
    return rosenbrock(x);
  };
  NelderMeadOptions o;
  o.max_evaluations = 300;
  o.restart_evaluations = 100;
  const std::vector<double> start(5, -1.0);
  const auto r = nelder_mead(counted, start, o);
  EXPECT_EQ(r.evaluations, calls);
  EXPECT_GT(r.evaluations, 1u);
  EXPECT_LE(r.evaluations, 1u + 300u + start.size() + 1u);
  EXPECT_LT(r.value, rosenbrock(start));
  EXPECT_DOUBLE_EQ(r.value, rosenbrock(r.x));
}

TEST(NelderMead, IsRepeatable) {
  NelderMeadOptions o;
  o.step = 0.7;
  o.min_step = 0.02;
  o.max_evaluations = 1500;
  o.restart_evaluations = 250;
  o.quiet_restarts = 2;
  const std::vector<double> start{-1.2, 1.0, 0.5, 0.0};
  const auto a = nelder_mead(rosenbrock, start, o);
  const auto b = nelder_mead(rosenbrock, start, o);
  EXPECT_EQ(a.x, b.x);
  EXPECT_EQ(a.value, b.value);
  EXPECT_EQ(a.evaluations, b.evaluations);
}

TEST(NelderMead, AZeroBudgetReturnsTheStart) {
  NelderMeadOptions o;
  o.max_evaluations = 0;
  const auto r = nelder_mead(rosenbrock, {0.5, 0.5}, o);
  EXPECT_EQ(r.x, (std::vector<double>{0.5, 0.5}));
  EXPECT_EQ(r.evaluations, 1u);
}

TEST(NelderMead, AvoidsPointsTheObjectiveCannotEvaluate) {
  // Defined only for x > 1; the minimum of (x - 2)^2 there is at 2.
  auto f = [](const std::vector<double>& x) {
    return x[0] <= 1.0 ? std::numeric_limits<double>::infinity() : std::pow(x[0] - 2.0, 2);
  };
  NelderMeadOptions o;
  o.step = 2.0;  // the first simplex reaches past the edge
  o.max_evaluations = 500;
  const auto r = nelder_mead(f, {1.2}, o);
  EXPECT_NEAR(r.x[0], 2.0, 1e-4);
  EXPECT_TRUE(std::isfinite(r.value));
}

TEST(NelderMead, RestartsAtMostAsOften) {
  // One simplex that stops on its tolerance at once: max_restarts 1 ends the search there.
  std::uint32_t calls = 0;
  auto flat = [&](const std::vector<double>&) {
    ++calls;
    return 1.0;
  };
  NelderMeadOptions o;
  o.max_restarts = 1;
  o.quiet_restarts = 5;
  const auto r = nelder_mead(flat, {0.0, 0.0, 0.0}, o);
  EXPECT_EQ(r.evaluations, 1u + 3u);  // the start and the simplex's three other vertices
  EXPECT_EQ(calls, r.evaluations);
}

TEST(NelderMead, BestOfSeveralStartsSumsTheirEvaluations) {
  // Two basins: (x^2 - 4)^2 + 0.1 (x - 2)^2 is lowest at x = 2, a worse minimum near -2.
  auto f = [](const std::vector<double>& x) { return std::pow(x[0] * x[0] - 4.0, 2) + 0.1 * std::pow(x[0] - 2.0, 2); };
  NelderMeadOptions o;
  o.step = 0.25;
  o.max_evaluations = 400;
  const auto left = nelder_mead(f, {-2.5}, o);
  const auto right = nelder_mead(f, {2.5}, o);
  ASSERT_LT(left.x[0], 0.0);
  ASSERT_GT(right.x[0], 0.0);
  const auto best = nelder_mead_best_of(f, {{-2.5}, {2.5}}, o);
  EXPECT_EQ(best.x, right.x);
  EXPECT_EQ(best.value, right.value);
  EXPECT_EQ(best.evaluations, left.evaluations + right.evaluations);
  // A tie keeps the earlier start's point.
  const auto tie = nelder_mead_best_of(f, {{2.5}, {2.5}}, o);
  EXPECT_EQ(tie.x, right.x);
  EXPECT_EQ(tie.evaluations, 2 * right.evaluations);
}

}  // namespace
}  // namespace jouleperf::sim
