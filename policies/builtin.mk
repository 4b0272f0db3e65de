# Built-in policies embedded into the binary: policies/builtin/*.yaml become
# C string literals in $(BUILD)/gen/builtin_policies.c, regenerated whenever
# a YAML file or the generator changes. Order: least to most restrictive
# (a built-in may inherit only one before it).
BUILTIN_POLICIES := $(addprefix policies/builtin/,minimal.yaml development.yaml testing.yaml \
	standard.yaml hardened.yaml paranoid.yaml)
GEN_SRC += $(BUILD)/gen/builtin_policies.c
# This file is read before the Makefile names its first target.
.DEFAULT_GOAL := all

$(BUILD)/gen/builtin_policies.c: $(BUILTIN_POLICIES) tools/embed-policies policies/builtin.mk
	@mkdir -p $(dir $@)
	tools/embed-policies $@ $(BUILTIN_POLICIES)

$(BUILD)/obj/gen/builtin_policies.o: policies/builtin.h
