/*
 * slurm_doctor.h - `wm doctor`'s look at the cluster (slurm_doctor.c):
 * whether Slurm's client tools answer, and its partitions. None of it is
 * required: runs without `executor: slurm` never need it.
 */
#ifndef WM_ORCHESTRATOR_SLURM_DOCTOR_H
#define WM_ORCHESTRATOR_SLURM_DOCTOR_H

#include "sandbox/doctor.h"

/* Appends the slurm_* items to d (up to 5). */
void wm_slurm_doctor(struct wm_doctor *d);

#endif
