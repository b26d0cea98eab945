# buildfarm: the two commands are `make demo` and `make test` (see README.md).
# Data, pids and logs of the local stack live under $BUILDFARM_STACK_DIR (default .stack/).
.PHONY: demo test up down status build services bench bench-full

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
