#!/bin/sh
# buildfarm CLI: this shell stub, then the self-contained jar. BUILDFARM_JAVA_OPTS adds JVM options.
exec java -XX:+UseSerialGC ${BUILDFARM_JAVA_OPTS:-} -jar "$0" "$@"
