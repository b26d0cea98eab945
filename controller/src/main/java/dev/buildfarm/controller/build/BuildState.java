package dev.buildfarm.controller.build;

import dev.buildfarm.api.v1.Build;

/** States of builds and platform builds, as stored. */
public enum BuildState {
    QUEUED, RUNNING, PUBLISHING, SUCCEEDED, FAILED, CANCELLED;

    public boolean isFinal() {
        return this == SUCCEEDED || this == FAILED || this == CANCELLED;
    }

    public Build.State toProto() {
        return Build.State.valueOf(name());
    }
}
