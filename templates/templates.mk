# The `wm init` templates, embedded into the binary: templates/*.md become
# C string literals in $(BUILD)/gen/templates.c, regenerated whenever a
# template or the generator changes. The first one is the default.
TEMPLATES := $(addprefix templates/,basic.md release.md ci.md data.md nightly.md \
	incident.md security-scan.md rollout.md)
GEN_SRC += $(BUILD)/gen/templates.c

$(BUILD)/gen/templates.c: $(TEMPLATES) tools/embed-templates templates/templates.mk
	@mkdir -p $(dir $@)
	tools/embed-templates $@ $(TEMPLATES)

$(BUILD)/obj/gen/templates.o: orchestrator/templates.h
