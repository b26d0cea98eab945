# Local stack (dev/stack.sh): Docker engine + QEMU, registry, Kafka, PostgreSQL, git daemon, base image.
# Data, pids and logs live under $BUILDFARM_STACK_DIR (default .stack/).
.PHONY: up down status

up:
	dev/stack.sh up

down:
	dev/stack.sh down

status:
	dev/stack.sh status
