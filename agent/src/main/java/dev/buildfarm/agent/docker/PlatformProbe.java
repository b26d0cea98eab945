package dev.buildfarm.agent.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.model.Frame;
import dev.buildfarm.common.Platform;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Finds out, by running a container, which platforms this engine can build and how: natively
 * (the engine's own architecture) or under QEMU user-mode emulation (binfmt_misc). Nothing is assumed
 * from configuration; a platform whose probe fails is not served.
 */
@ApplicationScoped
public class PlatformProbe {

    private static final Logger LOG = Logger.getLogger(PlatformProbe.class);

    public enum Mode { NATIVE, EMULATED }

    @Inject
    DockerClient docker;

    @Inject
    ImagePuller puller;

    @Inject
    RegistryLogins logins;

    public Platform enginePlatform() {
        String arch = docker.infoCmd().exec().getArchitecture();
        return Platform.fromMachine(arch).orElseThrow(() -> new IllegalStateException("unknown engine architecture " + arch));
    }

    public Map<Platform, Mode> probe(List<Platform> wanted, String probeImage) throws InterruptedException {
        Platform engine = enginePlatform();
        Map<Platform, Mode> result = new LinkedHashMap<>();
        for (Platform platform : wanted) {
            Optional<String> machine = runUname(platform, probeImage);
            if (machine.isEmpty()) {
                continue;
            }
            boolean sameFamily = Platform.fromMachine(machine.get())
                    .map(m -> m.architecture().equals(platform.architecture()))
                    .orElse(false);
            if (!sameFamily) {
                LOG.warnf("probe of %s ran as '%s': not serving it", platform, machine.get());
                continue;
            }
            Mode mode = platform.equals(engine) ? Mode.NATIVE : Mode.EMULATED;
            LOG.infof("platform %s: %s (uname -m = %s)", platform, mode, machine.get());
            result.put(platform, mode);
        }
        return result;
    }

    private Optional<String> runUname(Platform platform, String probeImage) throws InterruptedException {
        String containerId = null;
        try {
            // The probe image may sit in a registry that wants the operator's login.
            String image = puller.pull(probeImage, platform,
                    logins.forRegistry(RegistryLogins.registryOf(probeImage), java.util.Optional.empty())).id();
            containerId = docker.createContainerCmd(image)
                    .withPlatform(platform.toString())
                    .withCmd("uname", "-m")
                    .exec().getId();
            docker.startContainerCmd(containerId).exec();
            int exit = docker.waitContainerCmd(containerId).start().awaitStatusCode(60, TimeUnit.SECONDS);
            StringBuilder out = new StringBuilder();
            docker.logContainerCmd(containerId).withStdOut(true).withStdErr(true)
                    .exec(new ResultCallback.Adapter<Frame>() {
                        @Override
                        public void onNext(Frame frame) {
                            out.append(new String(frame.getPayload()));
                        }
                    }).awaitCompletion(30, TimeUnit.SECONDS);
            if (exit != 0) {
                LOG.warnf("probe of %s exited %d: %s", platform, exit, out.toString().trim());
                return Optional.empty();
            }
            return Optional.of(out.toString().trim());
        } catch (RuntimeException e) {
            LOG.warnf("probe of %s failed: %s", platform, e.getMessage());
            return Optional.empty();
        } finally {
            if (containerId != null) {
                docker.removeContainerCmd(containerId).withForce(true).exec();
            }
        }
    }
}
