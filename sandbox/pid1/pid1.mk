# The sandbox's pid 1 (sandbox/pid1/pid1.c) is a program of its own, linked
# statically so it runs in any root filesystem, and embedded in wm as bytes
# (wm_pid1_image, wm_pid1_image_size bytes; sandbox/pid1img.c): wm execs it
# from a sealed memfd. It is built with fixed flags, never with the
# sanitizers of `make asan` or `make fuzz`, which cannot run statically.
PID1_CFLAGS := -std=c11 -Os -Wall -Wextra -Werror -I. -static -s \
	-fno-asynchronous-unwind-tables
GEN_OBJ += $(BUILD)/obj/gen/pid1_image.o

$(BUILD)/pid1/wm-pid1: sandbox/pid1/pid1.c sandbox/pid1/proto.h sandbox/pid1/pid1.mk
	@mkdir -p $(dir $@)
	$(CC) $(PID1_CFLAGS) -o $@ sandbox/pid1/pid1.c

# .incbin keeps the image byte for byte without a generated C array.
$(BUILD)/obj/gen/pid1_image.o: $(BUILD)/pid1/wm-pid1
	@mkdir -p $(dir $@)
	printf '%s\n' '	.section .rodata' '	.balign 16' \
		'	.globl wm_pid1_image' 'wm_pid1_image:' '	.incbin "$<"' \
		'wm_pid1_image_end:' '	.balign 8' '	.globl wm_pid1_image_size' \
		'wm_pid1_image_size:' '	.quad wm_pid1_image_end - wm_pid1_image' \
		'	.section .note.GNU-stack,"",@progbits' | $(CC) -c -x assembler -o $@ -
