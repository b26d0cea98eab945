package dev.buildfarm.common;

import static org.assertj.core.api.Assertions.assertThat;

import dev.buildfarm.common.ContextEntries.Kind;
import org.junit.jupiter.api.Test;

class ContextEntriesTest {

    @Test
    void plainRelativeEntriesAreFine() {
        assertThat(ContextEntries.problem("Dockerfile", Kind.FILE, "")).isEmpty();
        assertThat(ContextEntries.problem("./src/", Kind.DIRECTORY, "")).isEmpty();
        assertThat(ContextEntries.problem("src/main.c", Kind.FILE, "")).isEmpty();
    }

    @Test
    void namesThatLeaveTheContextAreRefused() {
        assertThat(ContextEntries.problem("../etc/passwd", Kind.FILE, "")).contains("has a '..' component");
        assertThat(ContextEntries.problem("a/../../b", Kind.FILE, "")).contains("has a '..' component");
        assertThat(ContextEntries.problem("/etc/passwd", Kind.FILE, "")).contains("is an absolute path");
        assertThat(ContextEntries.problem("fifo", Kind.OTHER, "")).get().asString().contains("devices");
    }

    @Test
    void symbolicLinksMayPointAnywhereInsideButNotOut() {
        assertThat(ContextEntries.problem("bin/sh", Kind.SYMLINK, "busybox")).isEmpty();
        assertThat(ContextEntries.problem("a/b/link", Kind.SYMLINK, "../../c")).isEmpty();
        assertThat(ContextEntries.problem("a/link", Kind.SYMLINK, "../../etc")).get().asString().contains("outside the context");
        assertThat(ContextEntries.problem("link", Kind.SYMLINK, "/etc/passwd")).get().asString().contains("absolute");
        assertThat(ContextEntries.problem("hard", Kind.HARDLINK, "../x")).get().asString().contains("outside");
        assertThat(ContextEntries.problem("hard", Kind.HARDLINK, "src/main.c")).isEmpty();
    }
}
