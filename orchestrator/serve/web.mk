# The dashboard's static files (orchestrator/serve/web/) embedded into
# libwm.a as C string literals in $(BUILD)/gen/web_assets.c, regenerated
# whenever a file or the generator changes; orchestrator/serve/assets.c
# looks them up. Both `wm serve` (the dashboard) and `wm report` (one
# self-contained page) use them.
WEB_DIR := orchestrator/serve/web
WEB_ASSETS := $(addprefix $(WEB_DIR)/,index.html app.css draw.js app.js report.js)
GEN_SRC += $(BUILD)/gen/web_assets.c
LIB_SRC += orchestrator/serve/assets.c

$(BUILD)/gen/web_assets.c: $(WEB_ASSETS) tools/embed-web orchestrator/serve/web.mk
	@mkdir -p $(dir $@)
	tools/embed-web $@ $(WEB_DIR) $(WEB_ASSETS)

$(BUILD)/obj/gen/web_assets.o: orchestrator/serve/assets.h
