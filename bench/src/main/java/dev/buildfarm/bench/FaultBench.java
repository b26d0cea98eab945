package dev.buildfarm.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.buildfarm.api.v1.Agent;
import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.GitSource;
import dev.buildfarm.api.v1.ListAgentsRequest;
import dev.buildfarm.api.v1.PlatformBuild;
import dev.buildfarm.api.v1.SubmitBuildRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * The fault campaign, on the fault farm (dev/fault-farm.sh): a stream of small amd64 builds while the
 * agent running a build is killed with SIGKILL again and again, and the controller now and then.
 * Counts jobs lost (accepted builds that never ended) and duplicate winning attempts (more than one
 * platform_build.succeeded event, by id, for one platform of one build), and times, per agent kill,
 * kill → the agent shown LOST (detection) and kill → its job running again as a new attempt.
 */
final class FaultBench {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<Build.State> TERMINAL = EnumSet.of(Build.State.SUCCEEDED, Build.State.FAILED, Build.State.CANCELLED);

    private final Farm farm;
    private final int agentKills;
    private final int controllerKills;
    private final String script;
    private final List<String> accepted = Collections.synchronizedList(new ArrayList<>());
    /** Below what two agents build, so a rerun finds an idle agent rather than a queue. */
    private final long submitEveryMillis = Long.parseLong(Farm.env("BENCH_FAULT_SUBMIT_EVERY_MS", "10000"));
    private volatile boolean submitting = true;
    private int submitErrors;
    /** Kills that landed just after the job's result was reported, so no rerun was due. */
    private int afterEnd;
    /** Kills of a job's last attempt: it fails with AGENT_LOST, no rerun is due. */
    private int noAttemptsLeft;

    FaultBench(Farm farm, int agentKills, int controllerKills) {
        this.farm = farm;
        this.agentKills = agentKills;
        this.controllerKills = controllerKills;
        this.script = Farm.env("FAULT_FARM", "dev/fault-farm.sh");
    }

    List<Figure> run() throws Exception {
        Farm.GitRepo repo = farm.gitRepo("faults-bench", Map.of("Dockerfile", "FROM " + farm.baseImage + "\n"
                + "ARG NONCE\nRUN echo \"$NONCE\" && sleep 4\n"));
        String commit = repo.git("rev-parse", "HEAD");
        Thread submitter = new Thread(() -> submitStream(repo.url(), commit), "fault-bench-submit");
        submitter.setDaemon(true);
        long started = System.nanoTime();
        submitter.start();
        List<Double> detection = new ArrayList<>();
        List<Double> rerun = new ArrayList<>();
        List<Double> requeued = new ArrayList<>();
        List<Double> rerunOtherBusy = new ArrayList<>();
        int controllerEvery = controllerKills == 0 ? Integer.MAX_VALUE : Math.max(1, agentKills / controllerKills);
        int controllerDone = 0;
        List<Double> controllerBack = new ArrayList<>();
        try {
            for (int kill = 1; kill <= agentKills; kill++) {
                Running target = awaitRunning(Duration.ofMinutes(3));
                String part = target.agent.substring("fault-".length());
                // A rerun can start at once only if another agent is free to take it.
                boolean otherBusy = otherAgentBusy(target.agent);
                long killed = System.nanoTime();
                script("signal", part, "KILL");
                Double lost = null;
                Double queued = null;
                Double again = null;
                long until = killed + TimeUnit.SECONDS.toNanos(120);
                boolean endedFirst = false;
                boolean lastAttempt = false;
                while ((lost == null || again == null && !endedFirst && !lastAttempt) && System.nanoTime() < until) {
                    if (lost == null && agentState("agents/" + target.agent) == Agent.State.LOST) {
                        lost = (System.nanoTime() - killed) / 1e6;
                    }
                    if (again == null && !endedFirst && !lastAttempt) {
                        PlatformBuild pb = amd64(farm.get(target.build));
                        if (queued == null && (pb.getAttempt() > target.attempt || pb.getState() == Build.State.QUEUED)) {
                            queued = (System.nanoTime() - killed) / 1e6;
                        }
                        if (pb.getAttempt() > target.attempt && pb.getState() != Build.State.QUEUED) {
                            again = (System.nanoTime() - killed) / 1e6;
                        } else if (pb.getAttempt() == target.attempt && pb.getFailureReason().startsWith("AGENT_LOST")) {
                            // The kill took its last attempt (buildfarm.max-attempts): it fails, nothing runs again.
                            lastAttempt = true;
                            noAttemptsLeft++;
                        } else if (pb.getAttempt() == target.attempt && TERMINAL.contains(pb.getState())) {
                            // The agent reported its result between the look and the kill: nothing to run again.
                            endedFirst = true;
                            afterEnd++;
                        }
                    }
                    Thread.sleep(100);
                }
                System.out.printf(Locale.ROOT, "agent kill %d/%d (%s, %s attempt %d, other agent %s): LOST after %s, queued again after %s, "
                                + "running again after %s%s%n", kill, agentKills, target.agent, target.build, target.attempt, otherBusy ? "busy" : "idle",
                        lost == null ? "-" : Stats.ms(lost), queued == null ? "-" : Stats.ms(queued), again == null ? "-" : Stats.ms(again),
                        endedFirst ? " (its job had ended just before the kill)" : lastAttempt ? " (its last attempt: the job failed AGENT_LOST)" : "");
                Optional.ofNullable(lost).ifPresent(detection::add);
                Optional.ofNullable(again).ifPresent(rerun::add);
                Optional.ofNullable(queued).ifPresent(requeued::add);
                if (otherBusy) {
                    Optional.ofNullable(again).ifPresent(rerunOtherBusy::add);
                }
                script("start", part);
                if (kill % controllerEvery == 0 && controllerDone < controllerKills) {
                    controllerDone++;
                    long down = System.nanoTime();
                    script("signal", "controller", "KILL");
                    Thread.sleep(2_000);
                    script("start", "controller");
                    controllerBack.add((System.nanoTime() - down) / 1e6);
                    System.out.printf(Locale.ROOT, "controller kill %d/%d: serving again after %s%n", controllerDone, controllerKills,
                            Stats.ms(controllerBack.get(controllerBack.size() - 1)));
                }
            }
        } finally {
            submitting = false;
            submitter.join(30_000);
        }
        double campaignSeconds = (System.nanoTime() - started) / 1e9;

        // Every accepted build must end; wait for the stream to drain.
        List<String> builds = new ArrayList<>(accepted);
        Map<String, Build> ended = new HashMap<>();
        long drainUntil = System.nanoTime() + TimeUnit.MINUTES.toNanos(8);
        while (ended.size() < builds.size() && System.nanoTime() < drainUntil) {
            for (String name : builds) {
                if (!ended.containsKey(name)) {
                    try {
                        Build b = farm.get(name);
                        if (TERMINAL.contains(b.getState())) {
                            ended.put(name, b);
                        }
                    } catch (RuntimeException e) {
                        // controller busy: next round
                    }
                }
            }
            Thread.sleep(1_000);
        }
        int lost = builds.size() - ended.size();
        long succeeded = ended.values().stream().filter(b -> b.getState() == Build.State.SUCCEEDED).count();
        int duplicates = duplicateWinners(new HashSet<>(builds));

        Stats det = Stats.of(detection);
        Stats re = Stats.of(rerun);
        String conditions = String.format(Locale.ROOT, "fault farm (dev/fault-farm.sh: 2 agents, amd64 native + arm64 emulated each, own broker, "
                + "registry, controller); a build of linux/amd64 with a 4 s RUN submitted every %.0f s; %d × SIGKILL of the agent running a build "
                + "(restarted after each), %d × SIGKILL of the controller (restarted 2 s later); campaign %.0f s; polled every 100 ms",
                submitEveryMillis / 1000.0, agentKills, controllerDone, campaignSeconds);
        List<Figure> figures = new ArrayList<>();
        figures.add(new Figure("F1", "jobs lost", String.format(Locale.ROOT, "%d of %d accepted builds never ended (%d succeeded, %d failed or cancelled; "
                + "%d submits refused while the controller was down)", lost, builds.size(), succeeded, ended.size() - succeeded, submitErrors),
                "0", lost == 0, conditions, Figure.values("lost", lost, "accepted", builds.size(), "succeeded", succeeded)));
        figures.add(new Figure("F2", "duplicate winning attempts", duplicates + " platform builds with more than one succeeded attempt",
                "0", duplicates == 0, "platform_build.succeeded events on buildfarm.events, deduplicated by event id, per build and platform",
                Figure.values("duplicates", duplicates)));
        figures.add(new Figure("F3", "lost-agent detection", String.format(Locale.ROOT, "p50 %s, p99 %s (n=%d)", Stats.ms(det.p50()),
                Stats.ms(det.p99()), det.count()), "", null, "SIGKILL → ListAgents shows the agent LOST",
                det.millisValues("detection_")));
        figures.add(new Figure("F4", "kill-to-rerun", String.format(Locale.ROOT, "p50 %s, p99 %s (n=%d)", Stats.ms(re.p50()), Stats.ms(re.p99()),
                re.count()) + (afterEnd > 0 ? "; " + kills(afterEnd) + " landed just after the job had reported, nothing to rerun" : "")
                + (noAttemptsLeft > 0 ? "; " + kills(noAttemptsLeft) + " took a job's last attempt (it failed AGENT_LOST), nothing to rerun" : ""),
                "p99 ≤ 15 s", re.count() == agentKills - afterEnd - noAttemptsLeft && re.p99() <= 15_000,
                "SIGKILL → the killed agent's job claimed again as a new attempt (GetBuild)", re.millisValues("rerun_")));
        Stats q = Stats.of(requeued);
        figures.add(Figure.informational("kill → queued again", String.format(Locale.ROOT, "p50 %s, p99 %s (n=%d)", Stats.ms(q.p50()),
                Stats.ms(q.p99()), q.count()), "SIGKILL → the job QUEUED as the next attempt (GetBuild): disconnect grace and lease sweep"));
        if (!rerunOtherBusy.isEmpty()) {
            Stats busy = Stats.of(rerunOtherBusy);
            figures.add(Figure.informational("kill-to-rerun, the other agent building", String.format(Locale.ROOT, "p50 %s, max %s (n=%d)",
                    Stats.ms(busy.p50()), Stats.ms(busy.max()), busy.count()),
                    "the kills at which the surviving agent was itself building: the rerun waits for that build to end"));
        }
        if (!controllerBack.isEmpty()) {
            Stats back = Stats.of(controllerBack);
            figures.add(Figure.informational("controller kill → serving again", String.format(Locale.ROOT, "p50 %s, max %s (n=%d)",
                    Stats.ms(back.p50()), Stats.ms(back.max()), back.count()), "SIGKILL, 2 s down, dev/fault-farm.sh start (JVM start, ready)"));
        }
        return figures;
    }

    private record Running(String build, String agent, int attempt) {
    }

    /** A tracked build whose amd64 platform runs now, newest first. */
    private Running awaitRunning(Duration within) throws InterruptedException {
        long until = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < until) {
            List<String> recent = recentBuilds();
            Collections.reverse(recent);
            for (String name : recent) {
                try {
                    PlatformBuild pb = amd64(farm.get(name));
                    if (pb.getState() == Build.State.RUNNING && pb.getAgent().startsWith("fault-agent-")) {
                        return new Running(name, pb.getAgent(), pb.getAttempt());
                    }
                } catch (RuntimeException e) {
                    // not reachable right now
                }
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("no build running within " + within);
    }

    private void submitStream(String url, String commit) {
        while (submitting) {
            try {
                Build b = farm.builds().withDeadlineAfter(10, TimeUnit.SECONDS).submitBuild(SubmitBuildRequest.newBuilder()
                        .setRequestId("fault-bench-" + UUID.randomUUID())
                        .setSpec(BuildSpec.newBuilder().setSource(GitSource.newBuilder().setUrl(url).setCommit(commit))
                                .addPlatforms("linux/amd64").setRepository(farm.registry + "/fault-bench/app")
                                .addTags("latest").putBuildArgs("NONCE", UUID.randomUUID().toString()))
                        .build());
                accepted.add(b.getName());
            } catch (RuntimeException e) {
                submitErrors++;
            }
            try {
                Thread.sleep(submitEveryMillis);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private static PlatformBuild amd64(Build build) {
        return build.getPlatformBuildsList().stream().filter(p -> p.getPlatform().equals("linux/amd64")).findFirst().orElseThrow();
    }

    /** Whether another agent is building one of the recent builds now (its agent's own reports lag by seconds). */
    private boolean otherAgentBusy(String agent) {
        for (String name : recentBuilds()) {
            try {
                PlatformBuild pb = amd64(farm.get(name));
                if (pb.getState() == Build.State.RUNNING && !pb.getAgent().equals(agent)) {
                    return true;
                }
            } catch (RuntimeException e) {
                // not reachable right now
            }
        }
        return false;
    }

    private List<String> recentBuilds() {
        synchronized (accepted) {
            return new ArrayList<>(accepted.subList(Math.max(0, accepted.size() - 10), accepted.size()));
        }
    }

    private Agent.State agentState(String name) {
        try {
            return farm.builds().withDeadlineAfter(5, TimeUnit.SECONDS).listAgents(ListAgentsRequest.getDefaultInstance()).getAgentsList().stream()
                    .filter(a -> a.getName().equals(name)).map(Agent::getState).findFirst().orElse(Agent.State.STATE_UNSPECIFIED);
        } catch (RuntimeException e) {
            return Agent.State.STATE_UNSPECIFIED;
        }
    }

    /** Platform builds of these builds with more than one distinct platform_build.succeeded event. */
    private int duplicateWinners(Set<String> builds) {
        Properties config = new Properties();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, farm.kafka);
        Map<String, Set<String>> winners = new HashMap<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer())) {
            // Read up to the end as it is now: agents' state events keep the topic moving, so "no more
            // records" never comes.
            List<TopicPartition> partitions = consumer.partitionsFor("buildfarm.events").stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    JsonNode event = JSON.readTree(record.value());
                    String build = event.path("subject").asText();
                    if (builds.contains(build) && event.path("type").asText().equals("dev.buildfarm.platform_build.succeeded.v1")) {
                        winners.computeIfAbsent(build + " " + event.path("data").path("platform").asText(), k -> new HashSet<>())
                                .add(event.path("id").asText());
                    }
                }
            }
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
        return (int) winners.values().stream().filter(ids -> ids.size() > 1).count();
    }

    private void script(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(script));
        command.addAll(List.of(args));
        Farm.run(command, Duration.ofMinutes(5));
    }

    private static String kills(long n) {
        return n + (n == 1 ? " kill" : " kills");
    }
}
