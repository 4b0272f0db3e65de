/*
 * prompt.h - `wm run --interactive`'s question before a task, asked on the
 * terminal without stopping the run: the scheduler polls the terminal with
 * its other fds, and one key answers (r, s, a; Enter is ignored, so
 * that "r<Enter>" answers one question, not two).
 */
#ifndef WM_ORCHESTRATOR_PROMPT_H
#define WM_ORCHESTRATOR_PROMPT_H

struct wm_prompt;

/* Opens /dev/tty, keys unbuffered and not echoed (Ctrl-C still
 * interrupts); NULL when there is no terminal. */
struct wm_prompt *wm_prompt_open(void);
/* Restores the terminal as it was. */
void wm_prompt_close(struct wm_prompt *p);
int wm_prompt_fd(const struct wm_prompt *p);
/* Asks about a task, on a line of its own. */
void wm_prompt_ask(struct wm_prompt *p, const char *task);
/* The answer once a key came: 'r', 's' or 'a'; 0 when no key has come yet
 * or it was another (the question is then asked again). */
char wm_prompt_answer(struct wm_prompt *p, const char *task);

#endif
