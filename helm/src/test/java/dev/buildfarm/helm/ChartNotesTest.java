package dev.buildfarm.helm;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** templates/NOTES.txt, as an install prints it. */
class ChartNotesTest {

    @Test
    void notesTellHowToReachTheControllerSubmitAndScale() {
        String notes = Chart.notes();

        assertThat(notes)
                .contains("prod-buildfarm-controller.builds.svc:8080")
                .contains("kubectl --namespace builds port-forward svc/prod-buildfarm-controller 8080:8080")
                .contains("buildfarm submit --git-url")
                .contains("BUILDFARM_ENDPOINT=127.0.0.1:8080")
                .contains("kubectl --namespace builds scale deployment/prod-buildfarm-agent-linux-arm64 --replicas=2")
                .contains("prod-buildfarm-agent-linux-arm-v7")
                .contains("helm test prod")
                .contains("Secret \"buildfarm-postgresql\"")
                .doesNotContain("emulation")
                .doesNotContain("KEDA");
    }

    @Test
    void notesListTheEmulationPoolAndKedaWhenEnabled() {
        String notes = Chart.notes("full.yaml");

        assertThat(notes)
                .contains("prod-farm-agent-emulation (linux/arm/v6, linux/arm/v7 under QEMU)")
                .contains("KEDA scales the pools")
                .contains("partitions idle")
                .contains("8 partitions")
                .doesNotContain("prod-farm-agent-linux-arm-v6");
    }
}
