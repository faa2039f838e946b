"""Unit tests of the benchmark runner's parsers and ratios (`python3 -m unittest discover -s bench`).

The samples are outputs of wrk 4.1 and criterion 0.8 as they print them; a parser that
misread one would put wrong numbers in BENCHMARKS.md without failing.
"""

import unittest

import run

WRK_OUTPUT = """Running 10s test @ https://127.0.0.1:40123/okta/import
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    12.40ms    3.10ms  61.20ms   80.00%
    Req/Sec     2.56k   379.67     3.77k    77.50%
  Latency Distribution
     50%   12.12ms
     75%   13.90ms
     90%   16.01ms
     99%  812.00us
  50826 requests in 10.00s, 25.01MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:   5082.60
Transfer/sec:      2.50MB
"""

CRITERION_OUTPUT = """one plugin call (fresh instance, login-middle-name)
                        time:   [38.856 µs 41.188 µs 43.844 µs]
                        change: [-3.1% +0.2% +4.0%] (p = 0.91 > 0.05)
                        No change in performance detected.
Found 3 outliers among 100 measurements (3.00%)
pipeline bookkeeping    time:   [2.8777 µs 3.0557 µs 3.2445 µs]
pipeline of the three example strategies
                        time:   [1.2000 ms 1.3000 ms 1.4000 ms]
"""


class ParseWrk(unittest.TestCase):
    def test_numbers_errors_and_units(self):
        result = run.parse_wrk(WRK_OUTPUT)
        self.assertEqual(result["requests"], 50826)
        self.assertAlmostEqual(result["rps"], 5082.60)
        self.assertAlmostEqual(result["latency_ms"]["p50"], 12.12)
        self.assertAlmostEqual(result["latency_ms"]["p99"], 0.812)
        self.assertEqual(result["socket_errors"]["timeout"], 3)
        self.assertEqual(result["errors"], 2 + 3 + 7)

    def test_output_without_a_latency_distribution_is_refused(self):
        without = "\n".join(l for l in WRK_OUTPUT.splitlines() if "%   " not in l)
        with self.assertRaises(run.BenchError):
            run.parse_wrk(without)


class ParseCriterion(unittest.TestCase):
    def test_names_on_their_own_line_or_before_the_times(self):
        benches = run.parse_criterion(CRITERION_OUTPUT)
        self.assertEqual([b["name"] for b in benches], [
            "one plugin call (fresh instance, login-middle-name)",
            "pipeline bookkeeping",
            "pipeline of the three example strategies",
        ])
        self.assertAlmostEqual(benches[0]["median_us"], 41.188)
        self.assertAlmostEqual(benches[1]["low_us"], 2.8777)
        self.assertAlmostEqual(benches[2]["high_us"], 1400.0)


class RatiosTest(unittest.TestCase):
    @staticmethod
    def run_of(target, conns, rps, p99, cpu):
        return {"target": target, "conns": conns, "rps": rps, "latency_ms": {"p99": p99},
                "cpu_s_per_1k": cpu}

    def test_medians_over_rounds_against_native_and_the_baseline(self):
        runs = [
            self.run_of("importhook-3-plugins", 64, 5000, 30.0, 0.30),
            self.run_of("importhook-3-plugins", 64, 6000, 20.0, 0.28),
            self.run_of("importhook-3-plugins", 64, 5500, 25.0, None),
            self.run_of("native-limit", 64, 11000, 10.0, 0.12),
            self.run_of(run.BASELINE, 64, 4400, 40.0, 0.35),
            self.run_of(run.BASELINE, 64, 4000, 50.0, 0.35),
        ]
        (row,) = run.ratios(runs, [64, 256])
        self.assertEqual(row["conns"], 64)
        self.assertAlmostEqual(row["rps_vs_native-limit"], 5500 / 11000)
        self.assertAlmostEqual(row[f"rps_vs_{run.BASELINE}"], 5500 / 4200)
        self.assertAlmostEqual(row["cpu_vs_baseline"], 0.29 / 0.35)
        self.assertEqual((row["p99_ms"], row["baseline_p99_ms"]), (25.0, 45.0))
        self.assertNotIn("rps_vs_node-peer", row)


class SummaryRatiosTest(unittest.TestCase):
    @staticmethod
    def run_of(target, conns, round_no, rps, p99, cpu):
        return {"target": target, "conns": conns, "round": round_no, "rps": rps,
                "latency_ms": {"p99": p99}, "cpu_s_per_1k": cpu}

    def rows(self, runs, concurrencies):
        return {row["key"]: row for row in run.summary_ratios(runs, concurrencies)}

    def test_each_round_is_paired_then_the_median_is_taken(self):
        # Round 2 is a slow phase of the machine for both targets: paired, its ratio is as
        # good as round 1's, where a ratio of medians over rounds would mix the phases.
        runs = [
            self.run_of("importhook-no-plugins", 64, 1, 10000, 5.0, 0.050),
            self.run_of("native-plain", 64, 1, 12000, 4.0, 0.040),
            self.run_of("importhook-no-plugins", 64, 2, 5000, 9.0, 0.100),
            self.run_of("native-plain", 64, 2, 6000, 8.0, 0.080),
            self.run_of("importhook-no-plugins", 64, 3, 9000, 6.0, 0.060),
            self.run_of("native-plain", 64, 3, 9000, 5.0, 0.040),
        ]
        row = self.rows(runs, [64])["host_vs_native"]
        self.assertAlmostEqual(row["values"][64], 1.25)  # median of 1.25, 1.25, 1.5
        self.assertEqual(row["rounds"][64], 3)
        self.assertEqual(row["bound"], "≤ 1.15")
        self.assertFalse(row["met"])

    def test_the_host_target_is_against_the_plain_service_the_native_limit_a_reference(self):
        runs = [
            self.run_of("importhook-no-plugins", 64, 1, 10000, 5.0, 0.060),
            self.run_of("native-plain", 64, 1, 12000, 4.0, 0.040),
            self.run_of("native-limit", 64, 1, 9000, 5.0, 0.080),
            self.run_of("node-peer", 64, 1, 8000, 6.0, 0.100),
        ]
        rows = self.rows(runs, [64])
        self.assertAlmostEqual(rows["host_vs_native"]["values"][64], 1.5)
        self.assertEqual(rows["host_vs_native"]["denominator"], "native-plain")
        self.assertFalse(rows["host_vs_native"]["met"])
        limit = rows["host_vs_native_limit"]
        self.assertAlmostEqual(limit["values"][64], 0.75)
        self.assertIsNone(limit["met"])
        self.assertIsNone(limit["bound"])
        self.assertAlmostEqual(rows["native_plain_rps_vs_node"]["values"][64], 1.5)
        self.assertAlmostEqual(rows["native_plain_cpu_vs_node"]["values"][64], 0.4)
        self.assertIsNone(rows["native_plain_cpu_vs_node"]["met"])

    def test_added_cpu_is_over_the_no_plugin_service(self):
        runs = [
            self.run_of("importhook-no-plugins", 16, 1, 10000, 5.0, 0.060),
            self.run_of("importhook-3-plugins", 16, 1, 5000, 9.0, 0.150),
            self.run_of("importhook-3-warm", 16, 1, 8000, 6.0, 0.075),
        ]
        rows = self.rows(runs, [16])
        self.assertAlmostEqual(rows["per_call_added"]["values"][16], 1.5)
        self.assertFalse(rows["per_call_added"]["met"])
        self.assertAlmostEqual(rows["warm_added"]["values"][16], 0.25)
        self.assertTrue(rows["warm_added"]["met"])

    def test_node_ratios_every_concurrency_must_meet_the_bound(self):
        runs = []
        for conns, ours, node in ((16, 11000, 10000), (64, 9000, 10000)):
            runs += [self.run_of("importhook-3-plugins", conns, 1, ours, 20.0, 0.2),
                     self.run_of("node-peer", conns, 1, node, 10.0, 0.1),
                     self.run_of("node-peer-check", conns, 1, node, 10.0, 0.09),
                     self.run_of("native-limit", conns, 1, 2 * node, 5.0, 0.05)]
        rows = self.rows(runs, [16, 64, 256])
        rps = rows["per_call_rps_vs_node"]
        self.assertEqual(rps["values"], {16: 1.1, 64: 0.9})
        self.assertFalse(rps["met"])
        self.assertAlmostEqual(rows["per_call_p99_vs_node"]["values"][64], 2.0)
        self.assertAlmostEqual(rows["native_rps_vs_node"]["values"][16], 2.0)
        self.assertIsNone(rows["native_rps_vs_node"]["met"])
        self.assertAlmostEqual(rows["node_check_cpu"]["values"][64], 0.9)
        # Node is the leaner peer: node-peer-check, at 0.09 s/1k against 0.1.
        self.assertAlmostEqual(rows["node_cpu_vs_native"]["values"][16], 1.8)
        self.assertEqual(rps["node_peers"], {16: ["node-peer-check"], 64: ["node-peer-check"]})

    def test_node_is_the_leaner_peer_of_each_round_with_its_own_throughput_and_p99(self):
        runs = [
            self.run_of("importhook-3-plugins", 64, 1, 6000, 30.0, 0.2),
            self.run_of("node-peer", 64, 1, 5000, 20.0, 0.10),
            self.run_of("node-peer-check", 64, 1, 4000, 10.0, 0.12),
            self.run_of("importhook-3-plugins", 64, 2, 6000, 30.0, 0.2),
            self.run_of("node-peer", 64, 2, 5000, 20.0, 0.10),
            self.run_of("node-peer-check", 64, 2, 7500, 15.0, 0.08),
        ]
        rows = self.rows(runs, [64])
        # Round 1: node-peer (6000 / 5000, p99 30 / 20); round 2: node-peer-check (6000 / 7500, 30 / 15).
        self.assertAlmostEqual(rows["per_call_rps_vs_node"]["values"][64], (1.2 + 0.8) / 2)
        self.assertAlmostEqual(rows["per_call_p99_vs_node"]["values"][64], (1.5 + 2.0) / 2)
        self.assertEqual(rows["per_call_rps_vs_node"]["node_peers"][64], ["node-peer", "node-peer-check"])
        lines = run.render_ratios(list(rows.values()), [64])
        self.assertIn("node-peer 1×, node-peer-check 1×", "\n".join(lines))

    def test_a_ratio_without_both_targets_or_with_no_cpu_is_left_out(self):
        runs = [self.run_of("importhook-no-plugins", 64, 1, 10000, 5.0, None),
                self.run_of("native-limit", 64, 1, 12000, 4.0, 0.04),
                self.run_of("node-peer", 64, 1, 9000, 6.0, 0.07)]
        rows = self.rows(runs, [64])
        self.assertEqual(set(rows), {"native_rps_vs_node", "node_cpu_vs_native"})

    def test_the_block_has_one_row_per_ratio_and_a_column_per_concurrency(self):
        runs = [self.run_of("importhook-no-plugins", 64, 1, 10000, 5.0, 0.05),
                self.run_of("native-plain", 64, 1, 12000, 4.0, 0.05)]
        lines = run.render_ratios(run.summary_ratios(runs, [16, 64]), [16, 64])
        self.assertIn("| no plugins CPU/request ÷ native-plain's | ≤ 1.15 | – | 1.00 | yes |", lines)
        self.assertEqual(run.render_ratios([], [64]), [])


class NeedsTest(unittest.TestCase):
    def test_only_what_the_scenarios_and_targets_run_is_built(self):
        node_only = run.parse_args(["--scenarios", "comparison", "--targets", "node-peer,node-peer-check"])
        self.assertEqual(run.needs(node_only),
                         {"importhook": False, "wasm": False, "native": False, "native_plain": False})
        native = run.parse_args(["--scenarios", "comparison", "--targets", "native-limit,importhook-3-plugins"])
        self.assertEqual(run.needs(native),
                         {"importhook": True, "wasm": True, "native": True, "native_plain": False})
        # No plugin loaded: no wasm to build.
        plain = run.parse_args(["--scenarios", "comparison", "--targets", "native-plain,importhook-no-plugins"])
        self.assertEqual(run.needs(plain),
                         {"importhook": True, "wasm": False, "native": False, "native_plain": True})
        reload_only = run.parse_args(["--scenarios", "reload"])
        self.assertEqual(run.needs(reload_only),
                         {"importhook": True, "wasm": True, "native": False, "native_plain": False})
        self.assertIn("native-plain", run.parse_args([]).targets)


if __name__ == "__main__":
    unittest.main()
