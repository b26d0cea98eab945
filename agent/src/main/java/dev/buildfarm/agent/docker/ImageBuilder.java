package dev.buildfarm.agent.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.BuildImageCmd;
import com.github.dockerjava.api.command.BuildImageResultCallback;
import com.github.dockerjava.api.command.InspectImageResponse;
import com.github.dockerjava.api.exception.DockerClientException;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.BuildResponseItem;
import com.github.dockerjava.api.model.PushResponseItem;
import com.github.dockerjava.api.async.ResultCallback;
import dev.buildfarm.common.Platform;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/** Builds one platform's image with the engine's classic builder, checks its platform, pushes it. */
@ApplicationScoped
public class ImageBuilder {

    /** {@code pushLogin}: what the push authenticates with; empty for an anonymous push. */
    public record Request(Path context, Path dockerfile, Platform platform, Map<String, String> buildArgs,
                          boolean noCache, String repository, String pushTag, Optional<RegistryLogins.Login> pushLogin) {

        public Request(Path context, Path dockerfile, Platform platform, Map<String, String> buildArgs,
                       boolean noCache, String repository, String pushTag) {
            this(context, dockerfile, platform, buildArgs, noCache, repository, pushTag, Optional.empty());
        }
    }

    /** Lets another thread stop a running build: closing the stream makes the engine cancel it. */
    public static final class Cancellation {
        private final AtomicReference<Closeable> running = new AtomicReference<>();
        private volatile boolean cancelled;

        public void cancel() {
            cancelled = true;
            Closeable c = running.get();
            if (c != null) {
                try {
                    c.close();
                } catch (IOException ignored) {
                    // Closing is best effort; the build's own error follows.
                }
            }
        }

        public boolean cancelled() {
            return cancelled;
        }

        void track(Closeable c) {
            running.set(c);
            if (cancelled) {
                cancel();
            }
        }
    }

    public static class BuildFailure extends RuntimeException {
        public BuildFailure(String message) {
            super(message);
        }
    }

    @Inject
    DockerClient docker;

    /** Returns the digest of the pushed manifest. */
    public String buildAndPush(Request request, Consumer<String> log, Runnable pushing, Cancellation cancellation) {
        String imageId = build(request, log, cancellation);
        verifyPlatform(imageId, request.platform());
        pushing.run();
        return push(imageId, request, log, cancellation);
    }

    private String build(Request request, Consumer<String> log, Cancellation cancellation) {
        LineSplitter lines = new LineSplitter(log);
        AtomicReference<String> error = new AtomicReference<>();
        BuildImageCmd cmd = docker.buildImageCmd()
                .withBaseDirectory(request.context().toFile())
                .withDockerfile(request.dockerfile().toFile())
                .withPlatform(request.platform().toString())
                .withNoCache(request.noCache())
                // Bases are pulled by the agent for the platform and pinned by id.
                .withPull(false)
                // A failed build must not leave its container behind.
                .withForcerm(true)
                .withRemove(true);
        request.buildArgs().forEach(cmd::withBuildArg);
        BuildImageResultCallback callback = new BuildImageResultCallback() {
            @Override
            public void onNext(BuildResponseItem item) {
                lines.accept(item.getStream());
                if (item.isErrorIndicated()) {
                    error.set(item.getErrorDetail() != null ? item.getErrorDetail().getMessage() : item.getError());
                }
                super.onNext(item);
            }
        };
        cancellation.track(cmd.exec(callback));
        try {
            return callback.awaitImageId();
        } catch (DockerClientException | IllegalStateException e) {
            if (cancellation.cancelled()) {
                throw new BuildFailure("cancelled");
            }
            throw new BuildFailure("docker build failed: " + (error.get() != null ? error.get() : e.getMessage()));
        } finally {
            lines.flush();
        }
    }

    private void verifyPlatform(String imageId, Platform platform) {
        InspectImageResponse image = docker.inspectImageCmd(imageId).exec();
        if (!platform.os().equals(image.getOs()) || !platform.architecture().equals(image.getArch())) {
            throw new BuildFailure("the built image is " + image.getOs() + "/" + image.getArch()
                    + ", not " + platform + "; refusing to publish it");
        }
    }

    private String push(String imageId, Request request, Consumer<String> log, Cancellation cancellation) {
        String reference = request.repository() + ":" + request.pushTag();
        docker.tagImageCmd(imageId, request.repository(), request.pushTag()).withForce(true).exec();
        AtomicReference<String> digest = new AtomicReference<>();
        AtomicReference<String> error = new AtomicReference<>();
        ResultCallback.Adapter<PushResponseItem> callback = new ResultCallback.Adapter<>() {
            @Override
            public void onNext(PushResponseItem item) {
                // Push errors arrive as items, not exceptions.
                if (item.isErrorIndicated()) {
                    error.set(item.getErrorDetail() != null ? item.getErrorDetail().getMessage() : item.getError());
                }
                if (item.getAux() != null && item.getAux().getDigest() != null) {
                    digest.set(item.getAux().getDigest());
                }
            }
        };
        try {
            var cmd = docker.pushImageCmd(request.repository()).withTag(request.pushTag());
            request.pushLogin().ifPresent(login -> cmd.withAuthConfig(login.authConfig()));
            cancellation.track(cmd.exec(callback));
            if (!callback.awaitCompletion(30, TimeUnit.MINUTES)) {
                throw new BuildFailure("push of " + reference + " timed out");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BuildFailure("interrupted while pushing " + reference);
        } finally {
            untag(reference);
        }
        if (cancellation.cancelled()) {
            throw new BuildFailure("cancelled");
        }
        if (error.get() != null && isAuthenticationError(error.get())) {
            String registry = RegistryLogins.registryOf(request.repository());
            throw new BuildFailure("registry " + registry + " refused the push of " + reference + " for want of authentication ("
                    + error.get() + "): " + request.pushLogin()
                            .map(l -> "the login of user '" + l.username() + "' from " + l.source() + " was refused")
                            .orElse("the build's namespace has no registry credential for " + registry
                                    + " and the agent's Docker config has no login for it"));
        }
        if (error.get() != null || digest.get() == null) {
            throw new BuildFailure("push of " + reference + " failed: " + (error.get() != null ? error.get() : "no digest reported"));
        }
        log.accept("pushed " + request.repository() + "@" + digest.get() + " (" + request.platform() + ")");
        return digest.get();
    }

    /** The engine's words for a registry that wants (other) credentials. */
    static boolean isAuthenticationError(String error) {
        String e = error.toLowerCase(java.util.Locale.ROOT);
        return e.contains("unauthorized") || e.contains("authentication required") || e.contains("no basic auth credentials")
                || e.contains("denied");
    }

    private void untag(String reference) {
        try {
            // Keeps the image and its layers (the build cache); removes only the local tag.
            docker.removeImageCmd(reference).withNoPrune(true).withForce(false).exec();
        } catch (NotFoundException | com.github.dockerjava.api.exception.ConflictException ignored) {
            // Already gone, or still used: nothing to tidy.
        }
    }
}
