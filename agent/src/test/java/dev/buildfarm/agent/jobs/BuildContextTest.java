package dev.buildfarm.agent.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.buildfarm.agent.docker.ImageBuilder;
import dev.buildfarm.api.v1.BuildSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Dockerfile directory and the Dockerfile must stay inside the checkout, links followed. */
class BuildContextTest {

    @TempDir
    Path temp;

    private Path checkout;
    private Path outside;

    @BeforeEach
    void checkout() throws Exception {
        checkout = Files.createDirectories(temp.resolve("checkout"));
        outside = Files.createDirectories(temp.resolve("outside"));
        Files.writeString(outside.resolve("Dockerfile"), "FROM scratch\n");
        Files.createDirectories(checkout.resolve("app"));
        Files.writeString(checkout.resolve("app/Dockerfile"), "FROM scratch\n");
        Files.createSymbolicLink(checkout.resolve("escape"), outside);
        Files.createSymbolicLink(checkout.resolve("app/Dockerfile.out"), outside.resolve("Dockerfile"));
        Files.createSymbolicLink(checkout.resolve("app/Dockerfile.rel"), Path.of("../../outside/Dockerfile"));
        Files.createSymbolicLink(checkout.resolve("alias"), Path.of("app"));
        Files.createSymbolicLink(checkout.resolve("app/Dockerfile.in"), Path.of("Dockerfile"));
        Files.createSymbolicLink(checkout.resolve("dangling"), Path.of("/nonexistent/dir"));
    }

    private static BuildSpec spec(String directory, String name) {
        return BuildSpec.newBuilder().setDockerfileDirectory(directory).setDockerfileName(name).build();
    }

    @Test
    void aDirectoryOrDockerfileInsideIsUsed() throws Exception {
        assertThat(JobRunner.buildContext(checkout, spec("app", "Dockerfile"), "c")).isEqualTo(checkout.toRealPath().resolve("app"));
        assertThat(JobRunner.buildContext(checkout, spec("alias", "Dockerfile"), "c")).isEqualTo(checkout.toRealPath().resolve("app"));
        assertThat(JobRunner.buildContext(checkout, spec("app", "Dockerfile.in"), "c")).isEqualTo(checkout.toRealPath().resolve("app"));
    }

    @Test
    void aLinkLeadingOutOfTheCheckoutIsRefused() {
        assertThatThrownBy(() -> JobRunner.buildContext(checkout, spec("escape", "Dockerfile"), "c"))
                .isInstanceOf(ImageBuilder.BuildFailure.class)
                .hasMessageContaining("dockerfile_directory 'escape' is or passes through a symbolic link leading out of the checkout");
        assertThatThrownBy(() -> JobRunner.buildContext(checkout, spec("app", "Dockerfile.out"), "c"))
                .hasMessageContaining("Dockerfile 'Dockerfile.out' in 'app' is a symbolic link leading out of the checkout");
        assertThatThrownBy(() -> JobRunner.buildContext(checkout, spec("app", "Dockerfile.rel"), "c"))
                .hasMessageContaining("symbolic link leading out of the checkout");
    }

    @Test
    void missingAndDanglingAreSaidSo() {
        assertThatThrownBy(() -> JobRunner.buildContext(checkout, spec("nope", "Dockerfile"), "c"))
                .hasMessageContaining("dockerfile_directory 'nope' does not exist");
        assertThatThrownBy(() -> JobRunner.buildContext(checkout, spec("dangling", "Dockerfile"), "c"))
                .hasMessageContaining("symbolic link to nothing");
        assertThatThrownBy(() -> JobRunner.buildContext(checkout, spec("app", "Missing"), "c"))
                .hasMessageContaining("no Dockerfile 'Missing' in 'app'");
    }
}
