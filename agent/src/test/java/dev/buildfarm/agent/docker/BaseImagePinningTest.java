package dev.buildfarm.agent.docker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.buildfarm.common.Platform;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BaseImagePinningTest {

    private final List<String> pulled = new ArrayList<>();

    private String fakeId(String reference, Platform platform) {
        pulled.add(reference + " " + platform);
        return "sha256:" + Integer.toHexString((reference + platform).hashCode());
    }

    @Test
    void pinsEveryExternalBaseForTheTargetPlatformAndLeavesStagesAlone() throws Exception {
        String dockerfile = """
                # syntax is ignored by the classic builder
                ARG BASE=127.0.0.1:5000/library/busybox
                ARG VERSION=latest
                FROM ${BASE}:${VERSION} AS builder
                RUN echo hi > /hi
                FROM --platform=$BUILDPLATFORM $BASE:$VERSION as tools
                FROM scratch
                COPY --from=builder /hi /hi
                FROM builder
                RUN true \\
                    && echo continued
                """;
        var result = BaseImagePinning.pin(dockerfile, Map.of("BUILDPLATFORM", "linux/amd64"), Platform.LINUX_ARM_V7, this::fakeId);

        assertThat(pulled).containsExactly(
                "127.0.0.1:5000/library/busybox:latest linux/arm/v7",
                "127.0.0.1:5000/library/busybox:latest linux/amd64");
        List<String> lines = result.dockerfile().lines().toList();
        assertThat(lines.get(3)).isEqualTo("FROM " + fakeId("127.0.0.1:5000/library/busybox:latest", Platform.LINUX_ARM_V7) + " AS builder");
        assertThat(lines.get(5)).startsWith("FROM --platform=$BUILDPLATFORM sha256:").endsWith(" AS tools");
        assertThat(lines).contains("FROM scratch", "FROM builder", "RUN true      && echo continued");
        assertThat(result.pins()).hasSize(2);
    }

    @Test
    void buildArgsOverrideGlobalArgDefaults() throws Exception {
        var result = BaseImagePinning.pin("ARG TAG=1\nFROM img:${TAG}\n", Map.of("TAG", "2"), Platform.LINUX_ARM64, this::fakeId);
        assertThat(pulled).containsExactly("img:2 linux/arm64");
        assertThat(result.dockerfile()).startsWith("ARG TAG=1\nFROM sha256:");
    }

    @Test
    void leavesUnresolvableReferencesAsTheyAre() throws Exception {
        var result = BaseImagePinning.pin("FROM ${UNKNOWN}\n", Map.of(), Platform.LINUX_AMD64, this::fakeId);
        assertThat(pulled).isEmpty();
        assertThat(result.dockerfile()).isEqualTo("FROM ${UNKNOWN}\n");
    }
}
