%% Erlang/OTP's twins of grove's actor micro benchmarks, on one scheduler (erl +S 1), so the
%% figures can be set beside grove's greenlet-actors (tests/benchmarks/micro_greenlet.cc):
%%
%%   spawn_join_ns              spawn_monitor a process with an empty body, wait for its DOWN
%%   actor_pingpong_msgs_per_s  two processes bouncing a small message; both directions count
%%   idle_kib_per_greenlet      resident memory per process parked in receive (100,000)
%%
%% Times are the runtime system's CPU time (statistics(runtime)), as for the other twins.
%%   erlc erlang_micro.erl && erl +S 1 -noshell -run erlang_micro main [SCALE]
%% SCALE (default 1) multiplies the iteration counts of the timed figures, like gevent_micro.py's
%% --scale.
-module(erlang_micro).
-export([main/0, main/1]).

main() -> main([]).

main([]) -> run(1.0);
main([Scale]) ->
    case string:to_float(Scale) of
        {Value, []} when Value > 0 -> run(Value);
        _ ->
            case string:to_integer(Scale) of
                {Value, []} when Value > 0 -> run(float(Value));
                _ ->
                    io:format(standard_error,
                              "erlang_micro: bad scale '~s' (want a positive number)~n", [Scale]),
                    halt(2)
            end
    end.

run(Scale) ->
    report("spawn_join_ns", spawn_join(count(200000, Scale)), "ns"),
    report("actor_pingpong_msgs_per_s", ping_pong(count(500000, Scale)), "1/s"),
    report("idle_kib_per_greenlet", idle_kib(100000), "KiB"),
    halt().

count(N, Scale) -> max(1000, round(N * Scale)).

report(Name, Value, Unit) ->
    io:format("~s ~s ~s~n", [Name, float_to_list(float(Value), [{decimals, 4}, compact]), Unit]).

%% CPU milliseconds the runtime system has used so far.
cpu_ms() ->
    {Total, _SinceLast} = statistics(runtime),
    Total.

spawn_join(N) ->
    Start = cpu_ms(),
    spawn_join_loop(N),
    (cpu_ms() - Start) * 1.0e6 / N.

spawn_join_loop(0) -> ok;
spawn_join_loop(N) ->
    {Pid, Ref} = spawn_monitor(fun() -> ok end),
    receive {'DOWN', Ref, process, Pid, _Reason} -> ok end,
    spawn_join_loop(N - 1).

ping_pong(N) ->
    Ponger = spawn(fun ponger/0),
    Start = cpu_ms(),
    pinger(Ponger, N),
    Elapsed = cpu_ms() - Start,
    Ponger ! stop,
    2 * N / (max(Elapsed, 1) / 1000).

ponger() ->
    receive
        {ball, From, Value} -> From ! {ball, self(), Value}, ponger();
        stop -> ok
    end.

pinger(_Ponger, 0) -> ok;
pinger(Ponger, N) ->
    Ponger ! {ball, self(), N},
    receive {ball, Ponger, _} -> ok end,
    pinger(Ponger, N - 1).

idle_kib(N) ->
    Parent = self(),
    Before = rss_kib(),
    Sleepers = [spawn(fun() -> Parent ! parked, receive stop -> ok end end)
                || _ <- lists:seq(1, N)],
    [receive parked -> ok end || _ <- Sleepers],
    After = rss_kib(),
    [S ! stop || S <- Sleepers],
    (After - Before) / N.

rss_kib() ->
    {ok, Statm} = file:read_file("/proc/self/statm"),
    [_Size, Resident | _] = string:lexemes(binary_to_list(Statm), " \n"),
    list_to_integer(Resident) * 4.  % 4 KiB pages on Linux x86-64
