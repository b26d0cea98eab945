package dev.buildfarm.cli;

import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildLogLine;
import dev.buildfarm.api.v1.LogChunk;
import dev.buildfarm.api.v1.PlatformBuild;
import dev.buildfarm.api.v1.StreamBuildLogsRequest;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Follows a build to its end: a status per platform (queued / running / pushed, elapsed, native or
 * emulated) and, optionally, every log line prefixed by its platform. On a terminal the status is
 * a block of lines redrawn in place below the log; otherwise a plain line is printed per change.
 */
final class Follower {

  private static final long POLL_MILLIS = 500;
  private static final int LOG_RETRIES = 5;
  private static final String ERASE_BELOW = "\033[J";

  private final BuildfarmClient client;
  private final PrintWriter out;
  private final boolean live;
  private final boolean withLogs;
  private final Clock clock;

  private Build current;
  private int drawnLines; // status lines currently on the terminal below the log
  private final Map<String, String> shown = new HashMap<>(); // plain mode: last line per platform

  Follower(BuildfarmClient client, PrintWriter out, boolean live, boolean withLogs, Clock clock) {
    this.client = client;
    this.out = out;
    this.live = live;
    this.withLogs = withLogs;
    this.clock = clock;
  }

  /** Returns the build once it is SUCCEEDED, FAILED or CANCELLED. */
  Build follow(Build build) throws InterruptedException {
    current = build;
    List<Thread> streams = new ArrayList<>();
    // Log streams run in a cancellable context, so they can be stopped if they outlive the build.
    Context.CancellableContext logContext = Context.current().withCancellation();
    if (withLogs) {
      for (PlatformBuild p : build.getPlatformBuildsList()) {
        Thread t = new Thread(logContext.wrap(() -> streamLogs(build.getName(), p.getPlatform())),
            "logs-" + p.getPlatform());
        t.setDaemon(true);
        t.start();
        streams.add(t);
      }
    }
    try {
      while (true) {
        update(current);
        if (SubmitCommand.ended(current.getState())) {
          break;
        }
        Thread.sleep(POLL_MILLIS);
        current = client.get(build.getName());
      }
      // The controller ends each log stream once the build is final and every line is sent.
      for (Thread t : streams) {
        t.join(TimeUnit.SECONDS.toMillis(15));
      }
    } finally {
      logContext.cancel(null);
    }
    synchronized (this) {
      // The live block is redrawn once more, for good, below the last log line; plain mode has
      // already printed every change.
      if (live) {
        clearStatus();
        drawStatus();
        drawnLines = 0;
      }
      out.println(Printer.buildLine(current));
      out.flush();
    }
    return current;
  }

  private synchronized void update(Build build) {
    if (live) {
      clearStatus();
      drawStatus();
    } else {
      for (PlatformBuild p : build.getPlatformBuildsList()) {
        // Elapsed time is left out of the comparison: a plain line is printed per change only.
        String key = p.getState() + " " + p.getAgent() + " " + p.getEmulated();
        if (!key.equals(shown.put(p.getPlatform(), key))) {
          out.println(statusLine(p));
        }
      }
    }
    out.flush();
  }

  private void streamLogs(String name, String platform) {
    long next = 0;
    for (int failures = 0; failures <= LOG_RETRIES; ) {
      try {
        Iterator<LogChunk> chunks = client.logs(StreamBuildLogsRequest.newBuilder()
            .setName(name).setPlatform(platform).setOffset(next).setFollow(true).build());
        while (chunks.hasNext()) {
          List<BuildLogLine> lines = chunks.next().getLinesList();
          print(lines);
          next = lines.get(lines.size() - 1).getOffset() + 1;
          failures = 0;
        }
        return;
      } catch (StatusRuntimeException e) {
        Status.Code code = e.getStatus().getCode();
        if (code == Status.Code.CANCELLED || Context.current().isCancelled()) {
          return;
        }
        if (code != Status.Code.UNAVAILABLE || ++failures > LOG_RETRIES) {
          print(List.of(BuildLogLine.newBuilder().setPlatform(platform)
              .setText("[buildfarm] log stream ended: " + code + ": " + e.getStatus().getDescription()).build()));
          return;
        }
        try {
          Thread.sleep(500L * failures); // resume from the next offset after a cut connection
        } catch (InterruptedException ie) {
          return;
        }
      }
    }
  }

  private synchronized void print(List<BuildLogLine> lines) {
    clearStatus();
    for (BuildLogLine line : lines) {
      out.println(Printer.logLine(line));
    }
    if (live) {
      drawStatus();
    }
    out.flush();
  }

  private void drawStatus() {
    List<PlatformBuild> platforms = current.getPlatformBuildsList();
    for (PlatformBuild p : platforms) {
      out.println(statusLine(p));
    }
    drawnLines = platforms.size();
  }

  private void clearStatus() {
    if (drawnLines > 0) {
      out.print("\033[" + drawnLines + "A\r" + ERASE_BELOW);
      drawnLines = 0;
    }
  }

  /** e.g. {@code linux/arm/v7    running    1m02s  emulated  agent=host}. */
  String statusLine(PlatformBuild p) {
    StringBuilder line = new StringBuilder(String.format("%-14s  %-9s  %6s",
        p.getPlatform(), Printer.statusWord(p.getState()), Printer.duration(Printer.elapsed(p, clock.instant()))));
    if (!p.getAgent().isEmpty()) {
      line.append("  ").append(p.getEmulated() ? "emulated" : "native  ").append("  agent=").append(p.getAgent());
    }
    if (!p.getFailureReason().isEmpty()) {
      line.append("  reason: ").append(p.getFailureReason());
    }
    return line.toString().stripTrailing();
  }
}
