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


if __name__ == "__main__":
    unittest.main()
