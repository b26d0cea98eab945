package dev.buildfarm.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.buildfarm.api.v1.BuildRule;
import dev.buildfarm.api.v1.CreateBuildRuleRequest;
import dev.buildfarm.api.v1.CreateRepositoryRequest;
import dev.buildfarm.api.v1.DeleteRepositoryRequest;
import dev.buildfarm.api.v1.Repository;
import dev.buildfarm.api.v1.SourceBinding;
import dev.buildfarm.api.v1.TagConfig;
import io.grpc.StatusRuntimeException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Issue 3: push-to-queued latency and the matching cost of 10,000 rules on one source.
 *
 * <p>A repository bound to a git repository on the stack's git daemon, with a webhook secret, gets
 * 9,999 regex rules that do not match (`feature-(?<n>\d+)-x<i>`) and one that does
 * (`release-(?<imageTag>\w*)`, linux/amd64 only). Then signed GitHub push webhooks:
 * <ul>
 *   <li>release-v&lt;i&gt; at a new commit each time: POST sent → every platform job of the build named in
 *       the 202 answer received by a plain consumer of the job topics (from their end offsets); each
 *       build is cancelled at once so the agents stay free;</li>
 *   <li>a branch no rule matches: POST sent → 200 answer, against 10,000 rules and, as a baseline,
 *       against a repository with one rule: the difference is the matching cost.</li>
 * </ul>
 */
final class WebhookBench {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PLATFORM = "linux/amd64";
    private static final String ZEROS = "0".repeat(40);

    private final Farm farm;
    private final int ruleCount = Farm.envInt("BENCH_WEBHOOK_RULES", 10_000);
    private final int pushes;
    private final int createThreads = Farm.envInt("BENCH_WEBHOOK_CREATE_THREADS", 8);
    /** Pause before each push of the second, agents-idle series; 0 skips that series. */
    private final int pauseMillis;
    private final String topicPrefix = Farm.env("BENCH_TOPIC_PREFIX", "buildfarm.");
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();
    private final String secret = HexFormat.of().formatHex(new SecureRandom().generateSeed(16));

    private final List<String> diagnosis;

    WebhookBench(Farm farm, int pushes, int pauseMillis, List<String> diagnosis) {
        this.diagnosis = diagnosis;
        this.farm = farm;
        this.pushes = pushes;
        this.pauseMillis = pauseMillis;
    }

    private record Answer(int status, JsonNode body, long sentNanos, long answeredNanos) {
        double millis() {
            return (answeredNanos - sentNanos) / 1e6;
        }
    }

    List<Figure> run() throws Exception {
        String dockerfile = "FROM " + farm.baseImage + "\nRUN echo webhook bench\n";
        Farm.GitRepo git = farm.gitRepo("bench-webhook", Map.of("Dockerfile", dockerfile));
        String mainCommit = git.git("rev-parse", "HEAD");
        String big = "bench-wh-" + Farm.shortId();
        String small = "bench-wh1-" + Farm.shortId();
        List<Figure> figures = new ArrayList<>();
        try (JobTopicWatcher jobs = new JobTopicWatcher(farm.kafka, topicPrefix)) {
            createRepository(small, git.url());
            createRepository(big, git.url());

            // Baseline: the same no-match push against a repository with one rule (also warms both sides up).
            createRule(small, "release", "release-(?<imageTag>\\w*)", "${imageTag}");
            for (int i = 0; i < 10; i++) {
                push(small, "warmup-" + i, mainCommit);
            }
            Stats baseline = Stats.of(noMatchPushes(small, mainCommit, "baseline"));

            // 10,000 rules on one source.
            System.out.printf(Locale.ROOT, "webhook: creating %,d rules on repositories/%s with %d concurrent clients%n",
                    ruleCount, big, createThreads);
            long createStart = System.nanoTime();
            Stats createLatency = createRules(big);
            double createSeconds = (System.nanoTime() - createStart) / 1e9;
            figures.add(Figure.informational("rule creation throughput (CreateBuildRule)",
                    String.format(Locale.ROOT, "%,.0f rules/s (%,d rules in %.1f s; per call %s)", ruleCount / createSeconds,
                            ruleCount, createSeconds, createLatency.millis()),
                    createThreads + " concurrent gRPC clients, all rules on one repository (each create bumps its rules_version)"));

            // The first push after the rules changed rebuilds the repository's index (10,000 patterns).
            Answer cold = push(big, "nomatch-cold", mainCommit);
            expectStatus(cold, 200);
            figures.add(Figure.informational("first push after a rule change (index rebuild), no match",
                    Stats.ms(cold.millis()), String.format(Locale.ROOT, "%,d rules, one push", ruleCount)));

            Stats noMatch = Stats.of(noMatchPushes(big, mainCommit, "no-match"));
            figures.add(new Figure("#3", String.format(Locale.ROOT, "webhook answer, push matching none of %,d rules", ruleCount),
                    noMatch.millis() + String.format(Locale.ROOT, " (n=%d); 1-rule baseline %s; matching cost ≈ %s at p50",
                            noMatch.count(), baseline.millis(), Stats.ms(noMatch.p50() - baseline.p50())),
                    "p99 ≤ 50 ms", noMatch.p99() <= 50,
                    String.format(Locale.ROOT, "signed GitHub push, HTTP/1.1 keep-alive, sequential; POST sent → 200 answer; "
                            + "%,d regex rules (%,d `feature-(?<n>\\d+)-x<i>` + `release-(?<imageTag>\\w*)`)", ruleCount, ruleCount - 1),
                    Map.of()).withValues(noMatch.millisValues("")));

            figures.addAll(matchingPushes(big, git, jobs, 0));
            if (pauseMillis > 0) {
                // The same pushes with the agents idle in between: what the push path costs without the
                // CPU the agents spend claiming, checking out and cancelling the previous push's build.
                figures.addAll(matchingPushes(big, git, jobs, pauseMillis));
            }
        } finally {
            deleteRepository(big);
            deleteRepository(small);
            git.delete();
        }
        return figures;
    }

    private List<Double> noMatchPushes(String repository, String commit, String label) throws Exception {
        List<Double> millis = new ArrayList<>();
        for (int i = 0; i < pushes; i++) {
            Answer answer = push(repository, "nomatch-" + label + "-" + i, commit);
            expectStatus(answer, 200);
            millis.add(answer.millis());
        }
        System.out.printf(Locale.ROOT, "webhook: %d pushes matching no rule of repositories/%s (%s): %s%n",
                pushes, repository, label, Stats.of(millis).millis());
        return millis;
    }

    private List<Figure> matchingPushes(String repository, Farm.GitRepo git, JobTopicWatcher jobs, int pause) throws Exception {
        String series = pause > 0 ? String.format(Locale.ROOT, " (%d ms pause before each)", pause) : "";
        List<Double> queued = new ArrayList<>();
        List<Double> answered = new ArrayList<>();
        List<Double> answerToQueued = new ArrayList<>();
        List<Double> byRecordTime = new ArrayList<>();
        for (int i = 1; i <= pushes; i++) {
            // release-v<i>, or release-v<i>p in the paused series: a new branch, a new commit, a new build.
            String branch = "release-v" + i + (pause > 0 ? "p" : "");
            String commit = git.commit("push " + i, Map.of());
            git.branch(branch, commit);
            if (pause > 0) {
                Thread.sleep(pause);
            }
            long sentWallMillis = System.currentTimeMillis();
            Answer answer = push(repository, branch, commit);
            expectStatus(answer, 202);
            JsonNode started = answer.body().path("builds");
            if (started.size() != 1 || answer.body().path("existing").size() != 0) {
                throw new IllegalStateException("push of " + branch + " should start exactly one build: " + answer.body());
            }
            String build = started.get(0).path("build").asText();
            try {
                List<JobTopicWatcher.Seen> seen = jobs.await(build, 1, Duration.ofSeconds(30));
                long last = seen.stream().mapToLong(JobTopicWatcher.Seen::receivedNanos).max().orElseThrow();
                long lastRecord = seen.stream().mapToLong(JobTopicWatcher.Seen::recordTimestampMillis).max().orElseThrow();
                queued.add((last - answer.sentNanos()) / 1e6);
                answered.add(answer.millis());
                answerToQueued.add((last - answer.answeredNanos()) / 1e6);
                byRecordTime.add((double) (lastRecord - sentWallMillis));
            } finally {
                farm.cancelQuietly(build);
            }
        }
        Stats q = Stats.of(queued);
        Stats a = Stats.of(answered);
        System.out.printf(Locale.ROOT, "webhook: %d matching pushes%s: POST → 202 answer %s%n", pushes, series, a.millis());
        System.out.printf(Locale.ROOT, "webhook: %d matching pushes%s: 202 answer → job received from Kafka %s%n", pushes, series,
                Stats.of(answerToQueued).millis());
        System.out.printf(Locale.ROOT, "webhook: %d matching pushes%s: POST → job record's Kafka timestamp (producer, ms resolution) %s%n",
                pushes, series, Stats.of(byRecordTime).millis());
        System.out.printf(Locale.ROOT, "webhook: %d matching pushes%s: POST → job received from Kafka %s%n", pushes, series, q.millis());
        diagnosis.add(String.format(Locale.ROOT, "#3 push-to-queued%s split: POST → 202 answer %s; 202 answer → job received from Kafka %s.",
                series, a.millis(), Stats.of(answerToQueued).millis()));
        String conditions = String.format(Locale.ROOT, "%,d rules on one source, 1 matching (`release-(?<imageTag>\\w*)`, %s only); "
                + "signed GitHub push of release-v<i> at a new commit each, sequential; job seen by a plain KafkaConsumer "
                + "(fetch.max.wait 100 ms) on buildfarm.jobs.*; build cancelled after each%s", ruleCount, PLATFORM,
                pause > 0 ? "; " + pause + " ms pause before each push, so the agent is idle" : "; back to back (the agent claims and cancels the previous build meanwhile)");
        return List.of(new Figure("#3", "push-to-queued (POST sent → every platform job on Kafka)" + series,
                q.millis() + String.format(Locale.ROOT, " (n=%d; 202 answer %s)", q.count(), a.millis()),
                "p99 ≤ 50 ms", q.p99() <= 50, conditions, Map.of()).withValues(q.millisValues("")));
    }

    // ---- the farm's API

    private void createRepository(String id, String gitUrl) {
        farm.rules().withDeadlineAfter(30, TimeUnit.SECONDS).createRepository(CreateRepositoryRequest.newBuilder()
                .setRepositoryId(id)
                .setRepository(Repository.newBuilder()
                        .setImage(farm.registry + "/bench/webhook")
                        .setSource(SourceBinding.newBuilder().setUrl(gitUrl).setWebhookSecret(secret)))
                .build());
    }

    private void deleteRepository(String id) {
        try {
            farm.rules().withDeadlineAfter(120, TimeUnit.SECONDS)
                    .deleteRepository(DeleteRepositoryRequest.newBuilder().setName("repositories/" + id).setForce(true).build());
        } catch (StatusRuntimeException e) {
            System.err.println("webhook: could not delete repositories/" + id + ": " + e.getStatus());
        }
    }

    private void createRule(String repository, String ruleId, String pattern, String template) {
        farm.rules().withDeadlineAfter(30, TimeUnit.SECONDS).createBuildRule(CreateBuildRuleRequest.newBuilder()
                .setParent("repositories/" + repository)
                .setRuleId(ruleId)
                .setRule(BuildRule.newBuilder()
                        .setRefType(BuildRule.RefType.BRANCH)
                        .setRefPattern(pattern)
                        .addTags(TagConfig.newBuilder().setTemplate(template))
                        .addPlatforms(PLATFORM))
                .build());
    }

    /** ruleCount − 1 rules that match no pushed branch, and the release rule; answers per-call latency. */
    private Stats createRules(String repository) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(createThreads);
        try {
            List<Future<Double>> calls = new ArrayList<>();
            for (int i = 1; i < ruleCount; i++) {
                int n = i;
                calls.add(pool.submit(() -> {
                    long start = System.nanoTime();
                    createRule(repository, String.format(Locale.ROOT, "feature-%05d", n), "feature-(?<n>\\d+)-x" + n, "f${n}");
                    return (System.nanoTime() - start) / 1e6;
                }));
            }
            calls.add(pool.submit(() -> {
                long start = System.nanoTime();
                createRule(repository, "release", "release-(?<imageTag>\\w*)", "${imageTag}");
                return (System.nanoTime() - start) / 1e6;
            }));
            List<Double> millis = new ArrayList<>();
            for (Future<Double> call : calls) {
                millis.add(call.get(10, TimeUnit.MINUTES));
            }
            return Stats.of(millis);
        } finally {
            pool.shutdownNow();
        }
    }

    /** A signed GitHub push event for refs/heads/{branch} at commit. */
    private Answer push(String repository, String branch, String commit) throws Exception {
        ObjectNode body = JSON.createObjectNode();
        body.put("ref", "refs/heads/" + branch);
        body.put("before", ZEROS);
        body.put("after", commit);
        body.put("created", true);
        body.put("deleted", false);
        body.putObject("head_commit").put("id", commit).put("message", "bench");
        body.putObject("repository").put("name", "bench").put("full_name", "bench/bench")
                .put("pushed_at", Instant.now().getEpochSecond());
        body.putObject("pusher").put("name", "bench");
        byte[] bytes = JSON.writeValueAsBytes(body);
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        String signature = "sha256=" + HexFormat.of().formatHex(mac.doFinal(bytes));
        HttpRequest request = HttpRequest.newBuilder(URI.create(farm.httpBase + "/webhooks/" + repository))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .header("X-GitHub-Event", "push")
                .header("X-GitHub-Delivery", UUID.randomUUID().toString())
                .header("X-Hub-Signature-256", signature)
                .POST(HttpRequest.BodyPublishers.ofByteArray(bytes))
                .build();
        long sent = System.nanoTime();
        HttpResponse<byte[]> response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
        long answered = System.nanoTime();
        JsonNode json = response.body().length == 0 ? JSON.createObjectNode() : JSON.readTree(response.body());
        return new Answer(response.statusCode(), json, sent, answered);
    }

    private static void expectStatus(Answer answer, int status) {
        if (answer.status() != status) {
            throw new IllegalStateException("webhook answered " + answer.status() + " (expected " + status + "): " + answer.body());
        }
    }
}
