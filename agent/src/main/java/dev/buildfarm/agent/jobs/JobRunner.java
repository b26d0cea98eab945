package dev.buildfarm.agent.jobs;

import dev.buildfarm.agent.AgentSettings;
import dev.buildfarm.agent.docker.BaseImagePinning;
import dev.buildfarm.agent.docker.ImageBuilder;
import dev.buildfarm.agent.docker.ImagePuller;
import dev.buildfarm.agent.source.ContextExtraction;
import dev.buildfarm.agent.source.GitCheckout;
import dev.buildfarm.api.v1.ContextChunk;
import dev.buildfarm.api.v1.FetchContextRequest;
import dev.buildfarm.api.v1.AgentServiceGrpc.AgentServiceBlockingStub;
import dev.buildfarm.api.v1.AgentServiceGrpc;
import io.grpc.Channel;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.FinishJobRequest;
import dev.buildfarm.api.v1.HeartbeatRequest;
import dev.buildfarm.api.v1.PlatformJob;
import dev.buildfarm.api.v1.SourceCredentials;
import dev.buildfarm.common.LogContext;
import dev.buildfarm.common.Platform;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Enumeration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/** Runs one claimed platform job: checkout, pin bases, build, push, report. */
@ApplicationScoped
public class JobRunner {

    private static final Logger LOG = Logger.getLogger(JobRunner.class);
    /** How long a job's end waits for the controller to store its last log lines. */
    private static final long LOG_CLOSE_MILLIS = 30_000;

    @GrpcClient("controller")
    AgentServiceBlockingStub controller;

    @GrpcClient("controller")
    Channel controllerChannel;

    @Inject
    AgentSettings settings;

    @Inject
    ImagePuller puller;

    @Inject
    ImageBuilder builder;

    // Heartbeats get a thread of their own, so a long log flush never delays them past the lease.
    private final ScheduledExecutorService flushers = scheduler("log-flush");
    private final ScheduledExecutorService beats = scheduler("heartbeat");

    private static ScheduledExecutorService scheduler(String name) {
        return Executors.newScheduledThreadPool(1, r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
    }

    /** A job this agent holds: the attempt its claim granted, the agent's name, and the source credentials the claim brought. */
    public record Claimed(PlatformJob job, int attempt, String agent, Optional<SourceCredentials> credentials) {

        /** What every log record of this job carries: build, platform, attempt, agent. */
        public LogContext logContext() {
            return LogContext.open().build(job.getBuildName()).platform(job.getPlatform()).attempt(attempt).agent(agent);
        }

        /** Without the credentials, which a record's own toString would print. */
        @Override
        public String toString() {
            return "job " + job.getJobId() + " of " + job.getBuildName() + " (" + job.getPlatform() + "), attempt " + attempt
                    + (credentials.isPresent() ? ", with source credentials" : "");
        }
    }

    public void run(Claimed claimed, Platform enginePlatform) {
        try (LogContext context = claimed.logContext()) {
            runJob(claimed, enginePlatform);
        }
    }

    private void runJob(Claimed claimed, Platform enginePlatform) {
        PlatformJob job = claimed.job();
        int attempt = claimed.attempt();
        Platform platform = Platform.parse(job.getPlatform());
        ImageBuilder.Cancellation cancellation = new ImageBuilder.Cancellation();
        LogShipper log = new LogShipper(AgentServiceGrpc.newStub(controllerChannel), job.getJobId(), attempt, cancellation::cancel,
                settings.logWindow().asLongValue());
        long flushMillis = settings.logFlushInterval().toMillis();
        long beatMillis = settings.heartbeatInterval().toMillis();
        // The flush and heartbeat threads serve every job in turn: each run opens the job's context anew.
        ScheduledFuture<?> flusher = flushers.scheduleWithFixedDelay(() -> {
            try (LogContext context = claimed.logContext()) {
                log.flush();
            }
        }, flushMillis, flushMillis, TimeUnit.MILLISECONDS);
        ScheduledFuture<?> heartbeat = beats.scheduleWithFixedDelay(() -> {
            try (LogContext context = claimed.logContext()) {
                heartbeat(job.getJobId(), attempt, cancellation);
            }
        }, beatMillis, beatMillis, TimeUnit.MILLISECONDS);
        Path workspace = settings.workDir().resolve(job.getJobId() + "-" + attempt);
        Pushed pushed = null;
        String failure = null;
        try {
            pushed = build(job, attempt, platform, enginePlatform, claimed.credentials(), workspace, log, cancellation);
        } catch (ImageBuilder.BuildFailure e) {
            failure = e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failure = "agent stopped";
        } catch (Exception e) {
            LOG.warnf(e, "job %s (%s) failed", job.getJobId(), platform);
            failure = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        } finally {
            flusher.cancel(false);
            heartbeat.cancel(false);
            deleteQuietly(workspace);
        }
        if (failure != null) {
            log.line("error: " + failure);
        }
        log.close(LOG_CLOSE_MILLIS);
        finish(job, attempt, pushed, failure);
    }

    private Pushed build(PlatformJob job, int attempt, Platform platform, Platform enginePlatform,
                         Optional<SourceCredentials> credentials, Path workspace, LogShipper log,
                         ImageBuilder.Cancellation cancellation) throws Exception {
        BuildSpec spec = job.getSpec();
        log.stage("checkout");
        String source;
        if (spec.getContextDigest().isEmpty()) {
            source = job.getCommit();
            log.line("building " + job.getBuildName() + " for " + platform + " at " + source);
            GitCheckout.checkout(spec.getSource().getUrl(), job.getCommit(), workspace, credentials);
        } else {
            source = "the uploaded context " + spec.getContextDigest();
            log.line("building " + job.getBuildName() + " for " + platform + " from " + source);
            fetchContext(job, attempt, workspace, log);
        }
        Path context = workspace.resolve(spec.getDockerfileDirectory()).normalize();
        Path dockerfile = context.resolve(spec.getDockerfileName()).normalize();
        if (!context.startsWith(workspace) || !Files.isDirectory(context)) {
            throw new ImageBuilder.BuildFailure("dockerfile_directory '" + spec.getDockerfileDirectory() + "' does not exist in " + source);
        }
        if (!Files.isRegularFile(dockerfile) || !dockerfile.toRealPath().startsWith(workspace.toRealPath())) {
            throw new ImageBuilder.BuildFailure("no Dockerfile '" + spec.getDockerfileName() + "' in '"
                    + spec.getDockerfileDirectory() + "' of " + source);
        }
        Map<String, String> args = new LinkedHashMap<>(spec.getBuildArgsMap());
        args.putAll(automaticArgs(platform, enginePlatform));
        log.stage("pull");
        BaseImagePinning.Result pinned = BaseImagePinning.pin(
                Files.readString(dockerfile, StandardCharsets.UTF_8), args, platform,
                (reference, p) -> puller.pull(reference, p).id());
        pinned.pins().forEach(pin -> log.line("base " + pin.reference() + " for " + pin.platform() + " is " + pin.imageId()));
        // The checkout is private to this attempt, so the pinned Dockerfile replaces the original in place.
        Files.writeString(dockerfile, pinned.dockerfile(), StandardCharsets.UTF_8);
        String staging = stagingRepository(spec.getRepository(), settings.stagingNamespace());
        log.stage("build");
        String digest = builder.buildAndPush(new ImageBuilder.Request(context, dockerfile, platform, args, spec.getNoCache(),
                staging, job.getJobId() + "-" + platform.slug()), log::line, () -> log.stage("push"), cancellation);
        return new Pushed(staging, digest);
    }

    /** Streams the job's uploaded context from the controller straight into the workspace. */
    private void fetchContext(PlatformJob job, int attempt, Path workspace, LogShipper log) throws IOException {
        Iterator<ContextChunk> chunks = controller.withDeadlineAfter(10, TimeUnit.MINUTES).fetchContext(
                FetchContextRequest.newBuilder().setJobId(job.getJobId()).setAttempt(attempt).build());
        InputStream tar = new SequenceInputStream(new Enumeration<InputStream>() {
            @Override
            public boolean hasMoreElements() {
                return chunks.hasNext();
            }

            @Override
            public InputStream nextElement() {
                return chunks.next().getData().newInput();
            }
        });
        try {
            int entries = ContextExtraction.extract(tar, job.getSpec().getContextDigest(), workspace);
            log.line("extracted " + entries + " entries");
        } catch (ContextExtraction.UnsafeContext e) {
            throw new ImageBuilder.BuildFailure(e.getMessage());
        }
    }

    record Pushed(String repository, String digest) {
    }

    /** "127.0.0.1:5000/demo/hello" → "127.0.0.1:5000/buildfarm-staging/demo/hello". */
    static String stagingRepository(String repository, String namespace) {
        int slash = repository.indexOf('/');
        return repository.substring(0, slash) + "/" + namespace + repository.substring(slash);
    }

    /** BuildKit's automatic platform arguments, which the classic builder does not supply. */
    static Map<String, String> automaticArgs(Platform target, Platform build) {
        Map<String, String> args = new LinkedHashMap<>();
        args.put("TARGETPLATFORM", target.toString());
        args.put("TARGETOS", target.os());
        args.put("TARGETARCH", target.architecture());
        args.put("TARGETVARIANT", target.variant());
        args.put("BUILDPLATFORM", build.toString());
        args.put("BUILDOS", build.os());
        args.put("BUILDARCH", build.architecture());
        args.put("BUILDVARIANT", build.variant());
        return args;
    }

    private void heartbeat(String jobId, int attempt, ImageBuilder.Cancellation cancellation) {
        try {
            boolean cancel = controller.withDeadlineAfter(10, TimeUnit.SECONDS)
                    .heartbeat(HeartbeatRequest.newBuilder().setJobId(jobId).setAttempt(attempt).build())
                    .getCancelRequested();
            if (cancel) {
                cancellation.cancel();
            }
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.FAILED_PRECONDITION) {
                LOG.warnf("job %s attempt %d lost its lease: stopping", jobId, attempt);
                cancellation.cancel();
            }
        }
    }

    private void finish(PlatformJob job, int attempt, Pushed pushed, String failure) {
        FinishJobRequest.Builder request = FinishJobRequest.newBuilder().setJobId(job.getJobId()).setAttempt(attempt);
        if (failure == null) {
            request.setDigest(pushed.digest()).setRepository(pushed.repository());
        } else {
            request.setFailureReason(failure);
        }
        for (int tries = 1; ; tries++) {
            try {
                controller.withDeadlineAfter(30, TimeUnit.SECONDS).finishJob(request.build());
                LOG.infof("job %s (%s) finished: %s", job.getJobId(), job.getPlatform(), failure == null ? pushed.digest() : failure);
                return;
            } catch (StatusRuntimeException e) {
                Status.Code code = e.getStatus().getCode();
                if (code != Status.Code.UNAVAILABLE && code != Status.Code.DEADLINE_EXCEEDED || tries >= 10) {
                    LOG.warnf("job %s: finish refused: %s", job.getJobId(), e.getStatus());
                    return;
                }
                sleep(Math.min(10_000L, 500L * tries));
            }
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void deleteQuietly(Path directory) {
        if (!Files.exists(directory)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(directory)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            LOG.warnf("could not delete %s: %s", directory, e.getMessage());
        }
    }
}
