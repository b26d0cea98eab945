package dev.buildfarm.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.Timestamp;
import com.google.protobuf.util.JsonFormat;
import com.google.protobuf.util.Timestamps;
import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.GitSource;
import dev.buildfarm.api.v1.PlatformBuild;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

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
      out.println("  " + platformLine(p));
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

  private static String time(Timestamp t) {
    return Timestamps.toString(t);
  }
}
