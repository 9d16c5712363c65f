package xueji.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import org.flowable.engine.ProcessEngine;
import org.flowable.engine.ProcessEngineConfiguration;
import org.flowable.engine.RuntimeService;
import org.flowable.engine.TaskService;
import org.flowable.task.api.Task;

/**
 * The workload of bench/transfer_throughput.py on an embedded Flowable engine (H2 file database): `cases` cases by
 * `concurrency` client threads; per case: start (apply), a variable set (examine), the four approval stages (each a
 * user task with a warning and a breach boundary timer, armed when it opens and removed when it completes), the
 * no-op notify delegate that ends the case (ours also records the report, as a call of its own). Prints one JSON
 * object: cases/s, stage latency p50/p99 and the CPU seconds per case of this JVM (read from /proc over the measured
 * run only, after `warmup` cases).
 */
public final class FlowablePeer {
    static final String[] STAGES = {"receiving_school", "receiving_bureau", "sending_school", "sending_bureau"};

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            opts.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        int cases = Integer.parseInt(opts.getOrDefault("cases", "100"));
        int concurrency = Integer.parseInt(opts.getOrDefault("concurrency", "10"));
        int warmup = Integer.parseInt(opts.getOrDefault("warmup", "20"));
        Path db = Path.of(opts.getOrDefault("db", ".local/flowable-peer/flowable")).toAbsolutePath();
        Files.createDirectories(db.getParent());

        ProcessEngine engine = ProcessEngineConfiguration.createStandaloneProcessEngineConfiguration()
            .setJdbcUrl("jdbc:h2:file:" + db + ";DB_CLOSE_DELAY=-1")
            .setJdbcDriver("org.h2.Driver")
            .setJdbcUsername("sa")
            .setJdbcPassword("")
            .setJdbcMaxActiveConnections(concurrency + 4)
            .setDatabaseSchemaUpdate(ProcessEngineConfiguration.DB_SCHEMA_UPDATE_TRUE)
            .setAsyncExecutorActivate(true)  // timers are jobs the executor would fire, as in production
            .buildProcessEngine();
        try {
            engine.getRepositoryService().createDeployment().addClasspathResource("transfer.bpmn20.xml").deploy();
            run(engine, warmup, concurrency, "warmup");
            Map<String, List<Double>> latencies = new LinkedHashMap<>();
            for (String stage : STAGES) {
                latencies.put(stage, Collections.synchronizedList(new ArrayList<>()));
            }
            double cpuBefore = cpuSeconds();
            long started = System.nanoTime();
            run(engine, cases, concurrency, "bench", latencies);
            double elapsed = (System.nanoTime() - started) / 1e9;
            double cpu = cpuSeconds() - cpuBefore;
            List<Double> every = new ArrayList<>();
            StringBuilder stages = new StringBuilder();
            for (Map.Entry<String, List<Double>> e : latencies.entrySet()) {
                List<Double> v = new ArrayList<>(e.getValue());
                Collections.sort(v);
                every.addAll(v);
                stages.append(stages.length() == 0 ? "" : ", ").append(String.format(
                    "\"%s\": {\"p50\": %.3f, \"p99\": %.3f}", e.getKey(), median(v), p99(v)));
            }
            Collections.sort(every);
            System.out.printf(
                "{\"benchmark\": \"transfer_throughput_flowable\", \"engine\": \"Flowable %s embedded, H2 file\", "
                    + "\"cases\": %d, \"concurrency\": %d, \"warmup_cases\": %d, \"elapsed_s\": %.2f, "
                    + "\"cases_per_s\": %.2f, \"stage_decision_latency_s\": {%s}, \"all_stages_p50_s\": %.3f, "
                    + "\"all_stages_p99_s\": %.3f, \"cpu_s\": %.2f, \"cpu_s_per_case\": %.4f}%n",
                ProcessEngine.class.getPackage().getImplementationVersion(), cases, concurrency, warmup, elapsed,
                cases / elapsed, stages, median(every), p99(every), cpu, cpu / cases);
        } finally {
            engine.close();
        }
    }

    static void run(ProcessEngine engine, int cases, int concurrency, String tag) throws Exception {
        run(engine, cases, concurrency, tag, null);
    }

    static void run(ProcessEngine engine, int cases, int concurrency, String tag, Map<String, List<Double>> latencies)
        throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(concurrency);
        AtomicInteger next = new AtomicInteger();
        List<Future<?>> workers = new ArrayList<>();
        for (int t = 0; t < concurrency; t++) {
            workers.add(pool.submit(() -> {
                int n;
                while ((n = next.getAndIncrement()) < cases) {
                    oneCase(engine, tag + "-" + n, latencies);
                }
                return null;
            }));
        }
        for (Future<?> w : workers) {
            w.get();
        }
        pool.shutdown();
    }

    static void oneCase(ProcessEngine engine, String key, Map<String, List<Double>> latencies) {
        RuntimeService runtime = engine.getRuntimeService();
        TaskService tasks = engine.getTaskService();
        Map<String, Object> application = new HashMap<>();
        application.put("student_id", "stu_" + key);
        application.put("sending", "3501020003");
        application.put("receiving", "3506020001");
        application.put("reason", "household_move");
        String id = runtime.startProcessInstanceByKey("transfer", key, application).getId();
        runtime.setVariable(id, "examined", Boolean.TRUE);
        for (String stage : STAGES) {
            long started = System.nanoTime();
            Task task = tasks.createTaskQuery().processInstanceId(id).taskDefinitionKey(stage).singleResult();
            tasks.complete(task.getId(), Map.of(stage, "approve"));
            if (latencies != null) {
                latencies.get(stage).add((System.nanoTime() - started) / 1e9);
            }
        }
        if (runtime.createProcessInstanceQuery().processInstanceId(id).count() != 0) {
            throw new IllegalStateException(key + ": not completed after the four stages and the notification");
        }
    }

    /** This process's user and system CPU seconds, from /proc/self/stat (in clock ticks of 1/100 s). */
    static double cpuSeconds() throws Exception {
        String stat = Files.readString(Path.of("/proc/self/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
    }

    static double median(List<Double> sorted) {
        return sorted.isEmpty() ? 0 : sorted.get(sorted.size() / 2);
    }

    static double p99(List<Double> sorted) {
        return sorted.isEmpty() ? 0 : sorted.get(Math.max(0, (int) (sorted.size() * 0.99) - 1));
    }
}
