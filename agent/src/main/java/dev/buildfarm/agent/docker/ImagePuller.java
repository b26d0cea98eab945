package dev.buildfarm.agent.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectImageResponse;
import com.github.dockerjava.api.command.PullImageResultCallback;
import com.github.dockerjava.api.model.PullResponseItem;
import dev.buildfarm.common.Platform;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Pulls an image for one platform and returns the immutable image id of exactly that variant.
 *
 * The engine keeps one image per local tag, so pulls of one tag for two platforms overwrite each
 * other. Pull and inspect therefore run under a lock per reference, and callers use the returned
 * id, never the tag.
 */
@ApplicationScoped
public class ImagePuller {

    public record PulledImage(String id, String os, String architecture) {
    }

    @Inject
    DockerClient docker;

    private final Map<String, Object> locks = new ConcurrentHashMap<>();

    public PulledImage pull(String reference, Platform platform) throws InterruptedException {
        return pull(reference, platform, Optional.empty());
    }

    /** With a login for the reference's registry, when it has one. */
    public PulledImage pull(String reference, Platform platform, Optional<RegistryLogins.Login> login) throws InterruptedException {
        ImageReference ref = ImageReference.parse(reference);
        synchronized (locks.computeIfAbsent(ref.toString(), k -> new Object())) {
            PullImageResultCallback callback = new PullImageResultCallback() {
                @Override
                public void onNext(PullResponseItem item) {
                    if (item.isErrorIndicated()) {
                        onError(new IllegalStateException("pull of " + reference + " failed: " + item.getErrorDetail().getMessage()));
                        return;
                    }
                    super.onNext(item);
                }
            };
            var cmd = docker.pullImageCmd(ref.repository());
            login.ifPresent(l -> cmd.withAuthConfig(l.authConfig()));
            cmd
                    .withTag(ref.tagOrDigest())
                    .withPlatform(platform.toString())
                    .exec(callback)
                    .awaitCompletion(30, TimeUnit.MINUTES);
            InspectImageResponse image = docker.inspectImageCmd(ref.toString()).exec();
            PulledImage pulled = new PulledImage(image.getId(), image.getOs(), image.getArch());
            if (!platform.os().equals(pulled.os()) || !platform.architecture().equals(pulled.architecture())) {
                throw new IllegalStateException(reference + " has no " + platform + " variant (the engine pulled "
                        + pulled.os() + "/" + pulled.architecture() + ")");
            }
            return pulled;
        }
    }
}
