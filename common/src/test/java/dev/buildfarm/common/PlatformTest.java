package dev.buildfarm.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class PlatformTest {

    @ParameterizedTest
    @CsvSource({
        "linux/amd64, linux/amd64",
        "amd64, linux/amd64",
        "x86_64, linux/amd64",
        "LINUX/AMD64, linux/amd64",
        "linux/arm64, linux/arm64",
        "aarch64, linux/arm64",
        "linux/aarch64, linux/arm64",
        "linux/arm64/v8, linux/arm64",
        "arm64/v8, linux/arm64",
        "linux/arm/v7, linux/arm/v7",
        "linux/arm, linux/arm/v7",
        "armhf, linux/arm/v7",
        "linux/armhf, linux/arm/v7",
        "linux/arm/v6, linux/arm/v6",
        "armel, linux/arm/v6",
        "' linux/arm/v6 ', linux/arm/v6",
    })
    void normalisesAliases(String input, String expected) {
        assertThat(Platform.parse(input).toString()).isEqualTo(expected);
    }

    @Test
    void refusesWindowsWithTheReason() {
        assertThatThrownBy(() -> Platform.parse("windows/amd64"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Windows images are not supported");
    }

    @ParameterizedTest
    @ValueSource(strings = {"linux/s390x", "linux/arm/v5", "linux/arm64/v9", "darwin/arm64", "linux/amd64/v2/x", "", " ", "linux//"})
    void refusesUnknownPlatformsNamingTheAcceptedOnes(String input) {
        assertThatThrownBy(() -> Platform.parse(input))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("linux/arm/v6");
    }

    @Test
    void slugAndMachineNames() {
        assertThat(Platform.LINUX_ARM_V7.slug()).isEqualTo("linux-arm-v7");
        assertThat(Platform.fromMachine("x86_64")).contains(Platform.LINUX_AMD64);
        assertThat(Platform.fromMachine("aarch64")).contains(Platform.LINUX_ARM64);
        assertThat(Platform.fromMachine("armv7l")).contains(Platform.LINUX_ARM_V7);
        assertThat(Platform.fromMachine("mips")).isEmpty();
    }
}
