package dev.buildfarm.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.Timestamp;
import com.google.protobuf.util.JsonFormat;
import com.google.protobuf.util.Timestamps;
import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildLogLine;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.GitSource;
import dev.buildfarm.api.v1.PlatformBuild;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Renders API messages for people (text) or for scripts (the proto's canonical JSON). */
final class Printer {

  private Printer() {}

  static void json(PrintWriter out, MessageOrBuilder message) {
    try {
      // Print zero values too, so scripts see "indexDigest": "" rather than a missing key.
      out.println(JsonFormat.printer().alwaysPrintFieldsWithNoPresence().print(message));
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException(e); // only for Any with unknown types; the API has none
    }
  }

  /** One line per platform, e.g. {@code linux/arm/v7  RUNNING  agent=host emulated}. */
  static String platformLine(PlatformBuild p) {
    List<String> parts = new ArrayList<>();
    parts.add(String.format("%-14s", p.getPlatform()));
    parts.add(String.format("%-10s", stateName(p.getState())));
    if (!p.getAgent().isEmpty()) {
      parts.add("agent=" + p.getAgent() + (p.getEmulated() ? " emulated" : " native"));
    }
    if (p.getAttempt() > 1) {
      parts.add("attempt=" + p.getAttempt());
    }
    if (!p.getDigest().isEmpty()) {
      parts.add(p.getDigest());
    }
    if (!p.getFailureReason().isEmpty()) {
      parts.add("reason: " + p.getFailureReason());
    }
    return String.join("  ", parts).stripTrailing();
  }

  /** The build-level line: name, state and, when there is one, the reason it failed. */
  static String buildLine(Build b) {
    String line = b.getName() + "  " + stateName(b.getState());
    return b.getFailureReason().isEmpty() ? line : line + "  reason: " + b.getFailureReason();
  }

  static void details(PrintWriter out, Build b) {
    out.println(buildLine(b));
    BuildSpec spec = b.getSpec();
    GitSource src = spec.getSource();
    String revision = src.getCommit().isEmpty() ? src.getRef() : src.getCommit();
    if (!spec.getContextDigest().isEmpty()) {
      out.println("  context  " + spec.getContextDigest() + " (uploaded)");
    }
    if (!src.getUrl().isEmpty()) {
      out.println("  source   " + src.getUrl() + " @ " + revision
          + (b.getCommit().isEmpty() ? "" : " (commit " + b.getCommit() + ")"));
    }
    out.println("  image    " + image(spec));
    if (!b.getIndexDigest().isEmpty()) {
      out.println("  index    " + b.getIndexDigest());
    }
    if (b.hasCreateTime()) {
      out.println("  created  " + time(b.getCreateTime()));
    }
    for (PlatformBuild p : b.getPlatformBuildsList()) {
      out.println("  " + platformLine(p) + "  " + duration(elapsed(p, Instant.now())));
    }
  }

  /** One line per build for {@code list}. */
  static String summaryLine(Build b) {
    return String.join("  ",
        b.getName(),
        String.format("%-10s", stateName(b.getState())),
        image(b.getSpec()),
        String.join(",", b.getSpec().getPlatformsList()),
        b.hasCreateTime() ? time(b.getCreateTime()) : "");
  }

  static String image(BuildSpec spec) {
    return spec.getRepository() + ":" + String.join(",", spec.getTagsList());
  }

  static String stateName(Build.State state) {
    // An unknown number from a newer server is shown, not thrown.
    return state == Build.State.UNRECOGNIZED ? "UNKNOWN" : state.name();
  }

  static String time(Timestamp t) {
    return Timestamps.toString(t);
  }

  /** One JSON object per line, for streams (logs) that scripts read line by line. */
  static void jsonLine(PrintWriter out, MessageOrBuilder message) {
    try {
      out.println(JsonFormat.printer().omittingInsignificantWhitespace().print(message));
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }

  /** {@code linux/arm64  | text}: the platform first, so interleaved logs stay readable. */
  static String logLine(BuildLogLine line) {
    return String.format("%-12s | %s", line.getPlatform(), line.getText());
  }

  /** Accepts a bare id as well as {@code builds/{id}}. */
  static String buildName(String nameOrId) {
    return nameOrId.contains("/") ? nameOrId : "builds/" + nameOrId;
  }

  /** What a person calls a platform's state: a succeeded platform build has been pushed. */
  static String statusWord(Build.State state) {
    return switch (state) {
      case SUCCEEDED -> "pushed";
      case UNRECOGNIZED -> "unknown";
      default -> state.name().toLowerCase(Locale.ROOT);
    };
  }

  /** Waiting time while queued, then build time: running so far, or start to end. */
  static Duration elapsed(PlatformBuild p, Instant now) {
    Instant end = p.hasEndTime() ? instant(p.getEndTime()) : now;
    Instant start = p.hasStartTime() ? instant(p.getStartTime())
        : p.hasCreateTime() ? instant(p.getCreateTime()) : end;
    Duration d = Duration.between(start, end);
    return d.isNegative() ? Duration.ZERO : d;
  }

  static String bytes(long n) {
    if (n < 1024) {
      return n + " B";
    }
    return n < 1024 * 1024 ? String.format("%.1f KiB", n / 1024.0) : String.format("%.1f MiB", n / (1024.0 * 1024));
  }

  static String duration(Duration d) {
    long s = d.toSeconds();
    return s < 60 ? s + "s" : String.format("%dm%02ds", s / 60, s % 60);
  }

  private static Instant instant(Timestamp t) {
    return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
  }
}
