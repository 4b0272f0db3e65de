/*
 * proto.h - what the sandbox's pid 1 and wm say to each other.
 *
 * Shared by wm (sandbox/spawn.c, sandbox/init.c) and the stand-alone pid 1
 * program (sandbox/pid1/pid1.c), which includes nothing of wm's: keep this
 * header free of wm types.
 *
 * Messages travel over a SOCK_SEQPACKET socket, one struct per packet, from
 * the sandbox to wm. Inside the sandbox the socket is fd WM_PID1_SOCK_FD;
 * the pid 1 program's own image is fd WM_PID1_EXE_FD until it is exec'd.
 */
#ifndef WM_SANDBOX_PID1_PROTO_H
#define WM_SANDBOX_PID1_PROTO_H

#define WM_PID1_SOCK_FD 3
#define WM_PID1_EXE_FD 4

enum wm_pid1_msg_type {
	WM_PID1_READY = 1, /* the command was exec'd; the seccomp listener rides along if any */
	WM_PID1_SETUP,	   /* setup failed: step, err, status 125/126/127 */
	WM_PID1_EXIT,	   /* the command ended: its wait status */
};

/* Descriptors a READY message carries, in this order, as flagged in fds. */
enum wm_pid1_fds {
	WM_PID1_FD_LISTENER = 1, /* the seccomp user-notification listener */
	WM_PID1_FD_OUT = 2,	 /* the root of $WM_OUT's tmpfs (limits.out) */
};

struct wm_pid1_msg {
	int type;
	int status;
	int err;	/* errno of a failed setup step */
	int fds;	/* READY: which descriptors ride along (enum wm_pid1_fds) */
	char step[200]; /* "mount /proc", "exec foo" ... */
};

#endif
