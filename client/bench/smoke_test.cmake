# Smoke test of claude-grpc-bench: runs it briefly and checks only that it exits 0 and prints
# one JSON object with the headline keys. No timing is asserted.
#   cmake -DBENCH=path/to/claude-grpc-bench -P smoke_test.cmake

# Runs claude-grpc-bench with the ARGS given; fails the test unless it exits 0 and its stdout
# (leading and trailing white space stripped) matches every EXPECT regular expression.
function(bench_smoke_run name)
  cmake_parse_arguments(PARSE_ARGV 1 run "" "" "ARGS;EXPECT")
  execute_process(
    COMMAND "${BENCH}" ${run_ARGS}
    RESULT_VARIABLE result
    OUTPUT_VARIABLE output
    ERROR_VARIABLE errors)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "claude-grpc-bench ${name} exited with ${result}\nstdout:\n${output}\nstderr:\n${errors}")
  endif()
  string(STRIP "${output}" output)
  foreach(pattern IN LISTS run_EXPECT)
    if(NOT output MATCHES "${pattern}")
      message(FATAL_ERROR "${name}: output does not match ${pattern}:\n${output}\nstderr:\n${errors}")
    endif()
  endforeach()
  message(STATUS "claude-grpc-bench ${name} OK:\n${output}")
endfunction()

set(number "-?[0-9][0-9.e+-]*")
bench_smoke_run("smoke run"
  ARGS --suite=all --json --duration=0.2s --warmup=0.05s --rounds=1
       --concurrency=1,4 --rate=200 --memory_streams=10,20 --memory_drip=200ms
       --slow_reader_mb=2 --slow_reader_mb_per_s=20
  EXPECT
    "^{.*}$"
    "\"unary\":{.*\"ratio_vs_raw\":${number}"
    "\"stream\":{.*\"ratio_vs_raw\":${number}"
    "\"latency\":{.*\"overhead_p50_us\":${number}"
    "\"overhead_p99_us\":${number}"
    "\"latency\":{.*\"frontend\":{\"1\":{.*\"mean_us\":{\"median\":${number}"
    "\"latency\":{.*\"frontend\":{\"1\":{.*\"server_switches_per_call\":{\"median\":${number}"
    "\"load\":{\"runs\":[0-9]+,\"runs_with_others_runnable\":[0-9]+,"
    "\"open_loop\":{.*\"overhead_p50_us\":${number}"
    "\"memory\":{\"kb_per_stream\":${number},\"streams\":20,"
    "\"slow_reader\":{\"rss_growth_mb\":${number},.*\"status\":\"OK\"")

# The soak suite, briefly: it fails (exit 1) when anything is left behind.
bench_smoke_run("--suite=soak smoke run"
  ARGS --suite=soak --json --soak_streams=50 --soak_duration=3s --soak_warmup=1s
  EXPECT "\"soak\":{\"passed\":true,\"streams\":50,")

# The failover suite, briefly: it fails (exit 1) when a call failed or the failover server's
# counters do not show exactly one failover per call.
bench_smoke_run("--suite=failover smoke run"
  ARGS --suite=failover --json --duration=0.2s --warmup=0.05s --rounds=1 --failover_concurrency=1,4
  EXPECT "\"failover\":{\"levels\":\\[{\"concurrency\":1,.*\"qps_ratio\":${number}")
