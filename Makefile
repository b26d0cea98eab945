# buildfarm: the two commands are `make demo` and `make test` (see README.md).
# Data, pids and logs of the local stack live under $BUILDFARM_STACK_DIR (default .stack/).
.PHONY: demo test test-faults up down status build services bench bench-full

demo:
	dev/demo.sh

test:
	dev/test.sh

up:
	dev/stack.sh up

down:
	-dev/services.sh down
	dev/stack.sh down

status:
	dev/stack.sh status
	dev/services.sh status

build:
	./mvnw -B install -DskipTests

services:
	dev/services.sh up

bench:
	dev/bench.sh quick

bench-full:
	dev/bench.sh full

# Fault injection on a farm of its own (dev/fault-farm.sh): kills agents, the controller and the
# broker, stops the registry. `make test` runs it last, with the jars it built; this target builds
# first. Holds the farm lock: it shares the CPU.
test-faults:
	dev/test-faults.sh
