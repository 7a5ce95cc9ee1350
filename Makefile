# lift - thin entry points; the logic lives in scripts/ and meson.build.
#
#   make / make build   configure build/ once, then ninja (-> build/lift)
#   make demo           inspect the bundled bank file, train and explain a model,
#                       then run the campaign through `lift serve` with curl
#   make check          the whole suite (scripts/check.sh), as CI runs it
#   make bench          every bench/<name>/run.sh
#   make format         clang-format -i every *.c and *.h
#   make format-check   the same, without changing files
#   make asan           build-asan/ (AddressSanitizer + UBSan)
#   make fuzz           build-fuzz/ (clang, libFuzzer); see scripts/fuzz.sh
#   make deps           install missing Debian packages
#   make clean          remove build/, build-asan/ and build-fuzz/

DEMO_CSV := build/demo/bank-additional-full.csv
FORMAT_DIRS := src include tests bench

.PHONY: all build demo check bench format format-check asan fuzz deps clean

all: build

build:
	scripts/build.sh plain

deps:
	scripts/install-deps.sh -q

demo:
	scripts/install-deps.sh -q
	scripts/build.sh plain
	$(MAKE) --no-print-directory $(DEMO_CSV)
	build/lift inspect $(DEMO_CSV) --sep ';' --missing unknown
	@echo
	@echo '== train a response model (duration dropped: it leaks the outcome)'
	build/lift train $(DEMO_CSV) --target y --positive yes --drop duration \
		--valid 0.2 -o build/demo/bank.lift
	@echo
	@echo '== what drives the score, over all customers'
	build/lift explain build/demo/bank.lift
	@echo
	@echo '== why one customer got their score'
	build/lift explain build/demo/bank.lift --record \
		'{"age":41,"job":"admin.","marital":"married","contact":"cellular","month":"may","poutcome":"success","euribor3m":1.3,"nr.employed":5099}' \
		2>/dev/null
	@echo
	@echo '== the same campaign through the HTTP API (lift serve, curl)'
	scripts/demo-api.sh build/lift $(DEMO_CSV)
	@echo
	@echo '== the campaign plan: cost 5 a call, 100 per subscription (train on'
	@echo '   4 rows in 5, plan on the 5th, whose true labels give the realised profit)'
	awk 'NR == 1 || NR % 5 != 1' $(DEMO_CSV) > build/demo/train.csv
	awk 'NR == 1 || NR % 5 == 1' $(DEMO_CSV) > build/demo/test.csv
	build/lift train build/demo/train.csv --sep ';' --target y --positive yes \
		--drop duration -o build/demo/campaign.lift
	build/lift target build/demo/campaign.lift build/demo/test.csv --sep ';' \
		--cost 5 --value 100 -o build/demo/selected.csv
	@echo
	@echo '== the same campaign within a budget of 2000'
	build/lift target build/demo/campaign.lift build/demo/test.csv --sep ';' \
		--cost 5 --value 100 --budget 2000
	build/lift report build/demo/campaign.lift build/demo/test.csv --sep ';' \
		--cost 5 --value 100 --title 'bank campaign' -o build/demo/report.html

# The reader takes plain files: unpack the bundled copy once.
$(DEMO_CSV): data/bank-additional-full.csv.gz
	mkdir -p $(dir $@)
	gzip -dc $< > $@.tmp
	mv $@.tmp $@

check:
	scripts/install-deps.sh -q
	scripts/check.sh

bench: build
	bench/run.sh

format:
	find $(FORMAT_DIRS) \( -name '*.c' -o -name '*.h' \) -print0 | \
		xargs -0 -r clang-format -i

format-check:
	find $(FORMAT_DIRS) \( -name '*.c' -o -name '*.h' \) -print0 | \
		xargs -0 -r clang-format --dry-run -Werror

asan:
	scripts/build.sh asan

fuzz:
	scripts/build.sh fuzz

clean:
	rm -rf build build-asan build-fuzz
