package dev.buildfarm.agent.jobs;

import dev.buildfarm.agent.AgentSettings;
import dev.buildfarm.agent.docker.BaseImagePinning;
import dev.buildfarm.agent.docker.ImageBuilder;
import dev.buildfarm.agent.docker.ImagePuller;
import dev.buildfarm.agent.docker.RegistryLogins;
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
import dev.buildfarm.api.v1.RegistryAuth;
import dev.buildfarm.api.v1.SourceCredentials;
import dev.buildfarm.common.LogContext;
import dev.buildfarm.common.Platform;
import dev.buildfarm.common.SourceHosts;
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
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
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

    @Inject
    RegistryLogins logins;

    @Inject
    ControllerSession session;

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

    /**
     * A job this agent holds: the attempt its claim granted, the agent's name, and the source
     * credentials, secret build argument values and registry credential the claim brought.
     */
    public record Claimed(PlatformJob job, int attempt, String agent, Optional<SourceCredentials> credentials,
                          Map<String, String> secretBuildArgs, Optional<RegistryAuth> registryAuth) {

        public Claimed(PlatformJob job, int attempt, String agent, Optional<SourceCredentials> credentials,
                       Map<String, String> secretBuildArgs) {
            this(job, attempt, agent, credentials, secretBuildArgs, Optional.empty());
        }

        /** What every log record of this job carries: build, platform, attempt, agent. */
        public LogContext logContext() {
            return LogContext.open().build(job.getBuildName()).platform(job.getPlatform()).attempt(attempt).agent(agent);
        }

        /** Without the credentials and secret values, which a record's own toString would print. */
        @Override
        public String toString() {
            return "job " + job.getJobId() + " of " + job.getBuildName() + " (" + job.getPlatform() + "), attempt " + attempt
                    + (credentials.isPresent() ? ", with source credentials" : "")
                    + (secretBuildArgs.isEmpty() ? "" : ", with secret build arguments " + secretBuildArgs.keySet())
                    + registryAuth.map(a -> ", with a credential for " + a.getRegistry()).orElse("");
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
        // The registry password is masked like a secret value, whatever would echo it.
        List<String> secrets = new ArrayList<>(claimed.secretBuildArgs().values());
        claimed.registryAuth().ifPresent(a -> secrets.add(a.getPassword()));
        SecretRedactor redactor = SecretRedactor.of(secrets);
        LogShipper log = new LogShipper(AgentServiceGrpc.newStub(controllerChannel), job.getJobId(), attempt, cancellation::cancel,
                settings.logWindow().asLongValue(), redactor);
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
            pushed = build(job, attempt, platform, enginePlatform, claimed, workspace, log, cancellation);
        } catch (ImageBuilder.BuildFailure e) {
            failure = e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failure = "agent stopped";
        } catch (Exception e) {
            failure = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            // The trace only at debug: its messages could quote a secret value.
            LOG.warnf("job %s (%s) failed: %s", job.getJobId(), platform, redactor.redact(failure));
            LOG.debugf(e, "job %s (%s) failed", job.getJobId(), platform);
        } finally {
            flusher.cancel(false);
            deleteQuietly(workspace);
        }
        if (failure != null) {
            failure = redactor.redact(failure);
            log.line("error: " + failure);
        }
        try {
            log.close(LOG_CLOSE_MILLIS);
            finish(job, attempt, pushed, failure, log);
        } finally {
            // Heartbeats go on until the result is delivered: the agent still holds the attempt, and a
            // controller that restarts meanwhile must not expire its lease while the log drains.
            heartbeat.cancel(false);
        }
    }

    private Pushed build(PlatformJob job, int attempt, Platform platform, Platform enginePlatform, Claimed claimed,
                         Path workspace, LogShipper log, ImageBuilder.Cancellation cancellation) throws Exception {
        BuildSpec spec = job.getSpec();
        Optional<SourceCredentials> credentials = claimed.credentials();
        Map<String, String> secretArgs = claimed.secretBuildArgs();
        log.stage("checkout");
        String source;
        if (spec.getContextDigest().isEmpty()) {
            source = job.getCommit();
            log.line("building " + job.getBuildName() + " for " + platform + " at " + source);
            try {
                GitCheckout.checkout(spec.getSource().getUrl(), job.getCommit(), workspace, credentials);
            } catch (SourceHosts.Refused e) {
                throw new ImageBuilder.BuildFailure("checkout refused: " + e.getMessage());
            }
        } else {
            source = "the uploaded context " + spec.getContextDigest();
            log.line("building " + job.getBuildName() + " for " + platform + " from " + source);
            fetchContext(job, attempt, workspace, log);
        }
        Path context = buildContext(workspace, spec, source);
        Path dockerfile = context.resolve(spec.getDockerfileName());
        Map<String, String> args = new LinkedHashMap<>(spec.getBuildArgsMap());
        // The job's spec holds "****" for each secret; the claim brought the values.
        args.putAll(secretArgs);
        args.putAll(automaticArgs(platform, enginePlatform));
        log.stage("pull");
        BaseImagePinning.Result pinned = BaseImagePinning.pin(
                Files.readString(dockerfile, StandardCharsets.UTF_8), args, platform,
                (reference, p) -> puller.pull(reference, p,
                        logins.forRegistry(RegistryLogins.registryOf(reference), claimed.registryAuth())).id());
        pinned.pins().forEach(pin -> log.line("base " + pin.reference() + " for " + pin.platform() + " is " + pin.imageId()));
        // The checkout is private to this attempt, so the pinned Dockerfile replaces the original in place.
        Files.writeString(dockerfile, pinned.dockerfile(), StandardCharsets.UTF_8);
        String staging = stagingRepository(spec.getRepository(), settings.stagingNamespace());
        Optional<RegistryLogins.Login> pushLogin = logins.forRegistry(RegistryLogins.registryOf(staging), claimed.registryAuth());
        log.stage("build");
        String digest = builder.buildAndPush(new ImageBuilder.Request(context, dockerfile, platform, args, spec.getNoCache(),
                staging, job.getJobId() + "-" + platform.slug(), pushLogin), log::line, () -> log.stage("push"), cancellation);
        return new Pushed(staging, digest);
    }

    /**
     * The Dockerfile directory and the Dockerfile, as real paths, refused when either is, or passes
     * through, a symbolic link leading out of the checkout: the engine would read (and send as the
     * build context) whatever the link points at on the agent's host.
     */
    static Path buildContext(Path workspace, BuildSpec spec, String source) throws IOException {
        Path root = workspace.toRealPath();
        String directory = spec.getDockerfileDirectory();
        Path context = root.resolve(directory).normalize();
        if (!context.startsWith(root) || !Files.exists(context, LinkOption.NOFOLLOW_LINKS)) {
            throw new ImageBuilder.BuildFailure("dockerfile_directory '" + directory + "' does not exist in " + source);
        }
        Path realContext = realPath(context, "dockerfile_directory '" + directory + "'", source);
        if (!realContext.startsWith(root)) {
            throw new ImageBuilder.BuildFailure("dockerfile_directory '" + directory
                    + "' is or passes through a symbolic link leading out of the checkout (to " + realContext + ")");
        }
        if (!Files.isDirectory(realContext)) {
            throw new ImageBuilder.BuildFailure("dockerfile_directory '" + directory + "' is not a directory in " + source);
        }
        Path dockerfile = realContext.resolve(spec.getDockerfileName()).normalize();
        String what = "Dockerfile '" + spec.getDockerfileName() + "' in '" + directory + "'";
        if (!Files.exists(dockerfile, LinkOption.NOFOLLOW_LINKS)) {
            throw new ImageBuilder.BuildFailure("no " + what + " of " + source);
        }
        Path realDockerfile = realPath(dockerfile, what, source);
        if (!realDockerfile.startsWith(root)) {
            throw new ImageBuilder.BuildFailure(what + " is a symbolic link leading out of the checkout (to " + realDockerfile + ")");
        }
        if (!Files.isRegularFile(realDockerfile)) {
            throw new ImageBuilder.BuildFailure("no " + what + " of " + source + " (it is not a regular file)");
        }
        return realContext;
    }

    private static Path realPath(Path path, String what, String source) throws IOException {
        try {
            return path.toRealPath();
        } catch (java.nio.file.NoSuchFileException e) {
            // A dangling link: name where it leads, which says whether it left the checkout.
            throw new ImageBuilder.BuildFailure(what + " is a symbolic link to nothing in " + source
                    + (Files.isSymbolicLink(path) ? " (" + Files.readSymbolicLink(path) + ")" : ""));
        }
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

    private void finish(PlatformJob job, int attempt, Pushed pushed, String failure, LogShipper log) {
        FinishJobRequest.Builder request = FinishJobRequest.newBuilder().setJobId(job.getJobId()).setAttempt(attempt);
        if (failure == null) {
            request.setDigest(pushed.digest()).setRepository(pushed.repository());
        } else {
            request.setFailureReason(failure);
        }
        long giveUp = System.nanoTime() + settings.resultRetention().toNanos();
        for (int tries = 1; ; tries++) {
            // The log first, so it is whole when the result arrives (lines kept while the controller was away).
            log.flush();
            try {
                controller.withDeadlineAfter(30, TimeUnit.SECONDS).finishJob(request.build());
                LOG.infof("job %s (%s) finished: %s", job.getJobId(), job.getPlatform(), failure == null ? pushed.digest() : failure);
                return;
            } catch (StatusRuntimeException e) {
                if (refusal(e.getStatus().getCode())) {
                    LOG.warnf("job %s: finish refused: %s", job.getJobId(), e.getStatus());
                    return;
                }
                // Not heard (the controller is down or restarting): the pushed image is still good, so
                // keep offering it until the controller takes it or says no, within the retention.
                if (System.nanoTime() - giveUp > 0) {
                    LOG.warnf("job %s: result not delivered within %s, giving up: %s", job.getJobId(),
                            settings.resultRetention(), e.getStatus());
                    return;
                }
                if (tries == 1 || tries % 30 == 0) {
                    LOG.infof("job %s: controller did not take the result (%s); offering it again", job.getJobId(), e.getStatus());
                }
                session.reconnectNow();
                sleep(Math.min(2_000L, 250L * tries));
            }
        }
    }

    /** The controller answered and said no: the attempt is stale, the job unknown, the report malformed. */
    static boolean refusal(Status.Code code) {
        return code == Status.Code.FAILED_PRECONDITION || code == Status.Code.NOT_FOUND
                || code == Status.Code.INVALID_ARGUMENT || code == Status.Code.PERMISSION_DENIED
                || code == Status.Code.UNAUTHENTICATED || code == Status.Code.ALREADY_EXISTS;
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
