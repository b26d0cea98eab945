package dev.buildfarm.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class FrameSummaryTest {

    @Test
    void countsTopFramesOwnFramesAndThreadPools() {
        FrameSummary summary = new FrameSummary("dev.buildfarm.");
        summary.add("executor-thread-1", List.of("org.postgresql.core.PGStream.receive", "dev.buildfarm.controller.build.BuildStore.create",
                "dev.buildfarm.controller.api.BuildGrpcService.submitBuild"));
        summary.add("executor-thread-17", List.of("org.postgresql.core.PGStream.receive", "dev.buildfarm.controller.build.BuildStore.create"));
        summary.add("outbox-relay", List.of("java.lang.Object.wait"));

        assertThat(summary.total()).isEqualTo(3);
        assertThat(summary.topFrames(1)).containsExactly(new FrameSummary.Count("org.postgresql.core.PGStream.receive", 2));
        assertThat(summary.ownFrames(5)).containsExactly(
                new FrameSummary.Count("dev.buildfarm.controller.build.BuildStore.create", 2),
                new FrameSummary.Count("dev.buildfarm.controller.api.BuildGrpcService.submitBuild", 1));
        assertThat(summary.threadPools(5)).containsExactly(
                new FrameSummary.Count("executor-thread-#", 2),
                new FrameSummary.Count("outbox-relay", 1));
    }

    @Test
    void theInnermostFrameOfOursTakesTheLibraryWorkBelowIt() {
        FrameSummary summary = new FrameSummary("dev.buildfarm.");
        summary.add("t", List.of("com.fasterxml.jackson.core.JsonGenerator.writeRaw", "dev.buildfarm.controller.events.BuildEvents.buildChanged",
                "dev.buildfarm.controller.build.BuildStore_Subclass.create", "dev.buildfarm.controller.build.BuildStore.create"));
        summary.add("t", List.of("org.hibernate.engine.Flush.flush", "dev.buildfarm.controller.build.BuildStore_ClientProxy.create",
                "dev.buildfarm.controller.build.BuildStore.create", "dev.buildfarm.api.v1.BuildServiceGrpc$MethodHandlers.invoke"));
        summary.add("t", List.of("java.lang.Thread.run"));
        assertThat(summary.innermostOwnFrames(5)).containsExactly(
                new FrameSummary.Count("(none of ours on the stack)", 1),
                new FrameSummary.Count("dev.buildfarm.controller.build.BuildStore.create", 1),
                new FrameSummary.Count("dev.buildfarm.controller.events.BuildEvents.buildChanged", 1));
        // Generated stubs and CDI proxies only pass calls on.
        assertThat(summary.ownFrames(5)).extracting(FrameSummary.Count::name).containsExactly(
                "dev.buildfarm.controller.build.BuildStore.create", "dev.buildfarm.controller.events.BuildEvents.buildChanged");
    }

    @Test
    void aFrameBelongsToTheLibraryOfItsPackage() {
        assertThat(FrameSummary.library("org.postgresql.core.PGStream.receive")).isEqualTo("org.postgresql");
        assertThat(FrameSummary.library("java.lang.String.indexOf")).isEqualTo("java.lang");
        assertThat(FrameSummary.library("com.google.protobuf.CodedOutputStream.write")).isEqualTo("com.google.protobuf");
        assertThat(FrameSummary.library("com.fasterxml.jackson.core.JsonGenerator.writeRaw")).isEqualTo("com.fasterxml.jackson");
        assertThat(FrameSummary.library("Main.main")).isEqualTo("Main");
    }

    @Test
    void aRecursiveMethodCountsOncePerSample() {
        FrameSummary summary = new FrameSummary("dev.buildfarm.");
        summary.add("main", List.of("dev.buildfarm.A.walk", "dev.buildfarm.A.walk", "dev.buildfarm.A.walk"));
        assertThat(summary.ownFrames(5)).containsExactly(new FrameSummary.Count("dev.buildfarm.A.walk", 1));
    }

    @Test
    void threadNumbersAreDropped() {
        assertThat(FrameSummary.threadPool("vert.x-eventloop-thread-0")).isEqualTo("vert.x-eventloop-thread-#");
        assertThat(FrameSummary.threadPool("grpc-default-executor-12")).isEqualTo("grpc-default-executor-#");
        assertThat(FrameSummary.threadPool("outbox-relay")).isEqualTo("outbox-relay");
    }

    @Test
    void linesGiveEachShareOfAllSamples() {
        FrameSummary summary = new FrameSummary("dev.buildfarm.");
        summary.add("t", List.of("a.B.c"));
        summary.add("t", List.of("a.B.c"));
        summary.add("t", List.of("a.B.d"));
        summary.add("t", List.of("a.B.e"));
        assertThat(summary.lines(2)).contains("4 CPU samples", "   50.0%  a.B.c", "   25.0%  a.B.d");
    }
}
