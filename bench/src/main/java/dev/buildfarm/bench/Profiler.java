package dev.buildfarm.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;

/**
 * A JFR recording of a running service (jcmd JFR.start with the "profile" settings, ~10 ms CPU
 * sampling), summarised from its jdk.ExecutionSample events: where the CPU was while the load ran.
 */
final class Profiler {

    private final long pid;
    private final String name;
    private final Path file;

    private Profiler(long pid, String name, Path file) {
        this.pid = pid;
        this.name = name;
        this.file = file;
    }

    static Profiler start(long pid, String label) throws IOException, InterruptedException {
        Path file = Files.createTempFile("bench-" + label + "-", ".jfr");
        Files.delete(file);
        String name = "bench-" + label;
        try {
            // Deeper stacks than JFR's default 64 frames, so our frames under Quarkus' and gRPC's are kept;
            // only possible before the process's first recording, hence best effort.
            Farm.run(List.of("jcmd", Long.toString(pid), "JFR.configure", "stackdepth=256"), Duration.ofSeconds(60));
        } catch (IllegalStateException e) {
            System.out.println("profile: kept the default stack depth (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
        Farm.run(List.of("jcmd", Long.toString(pid), "JFR.start", "name=" + name, "settings=profile", "filename=" + file), Duration.ofSeconds(60));
        return new Profiler(pid, name, file);
    }

    /** Stops the recording (which writes the file) and answers its CPU samples, summarised. */
    FrameSummary stop() throws IOException, InterruptedException {
        Farm.run(List.of("jcmd", Long.toString(pid), "JFR.stop", "name=" + name), Duration.ofSeconds(120));
        FrameSummary summary = new FrameSummary("dev.buildfarm.");
        for (RecordedEvent event : RecordingFile.readAllEvents(file)) {
            if (!event.getEventType().getName().equals("jdk.ExecutionSample") || event.getStackTrace() == null) {
                continue;
            }
            RecordedThread thread = event.getThread("sampledThread");
            List<String> frames = new ArrayList<>();
            for (RecordedFrame frame : event.getStackTrace().getFrames()) {
                frames.add(frame.getMethod().getType().getName() + "." + frame.getMethod().getName());
            }
            summary.add(thread == null ? "?" : String.valueOf(thread.getJavaName()), frames);
        }
        return summary;
    }

    /** Ends the recording of a run that failed, so the service does not record on until it stops. */
    void stopQuietly() {
        try {
            Farm.run(List.of("jcmd", Long.toString(pid), "JFR.stop", "name=" + name), Duration.ofSeconds(120));
        } catch (Exception e) {
            System.out.println("profile: could not stop the recording: " + e.getMessage());
        }
    }

    Path file() {
        return file;
    }
}
