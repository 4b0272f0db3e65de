# bash completion for wm(1).
# Installed as share/bash-completion/completions/wm; or: source wm.bash
#
# Completes commands, each command's options (those of orchestrator/cmd_*.c),
# workflow files (*.md), policy files (*.yaml), OCI profiles (*.json), run ids
# (directory names under STATE/runs, STATE from --state-dir on the line, else
# $WM_STATE_DIR, $XDG_STATE_HOME/wm, ~/.local/state/wm), task ids of a run
# (its logs/TASK.log files), policy names (`wm policy list`), template
# names (`wm init --list`) and, after --secret, the names of the
# environment's variables.

_wm_state_dir()
{
	local i
	for ((i = 1; i < ${#COMP_WORDS[@]}; i++)); do
		case ${COMP_WORDS[i]} in
		--state-dir)
			printf '%s\n' "${COMP_WORDS[i + 1]/#\~/$HOME}"
			return
			;;
		--state-dir=*)
			local v=${COMP_WORDS[i]#--state-dir=}
			printf '%s\n' "${v/#\~/$HOME}"
			return
			;;
		esac
	done
	if [[ -n ${WM_STATE_DIR-} ]]; then
		printf '%s\n' "$WM_STATE_DIR"
	elif [[ -n ${XDG_STATE_HOME-} ]]; then
		printf '%s\n' "$XDG_STATE_HOME/wm"
	else
		printf '%s\n' "$HOME/.local/state/wm"
	fi
}

# Run ids, newest first (ids sort by time).
_wm_run_ids()
{
	local dir d
	dir=$(_wm_state_dir)/runs
	[[ -d $dir ]] || return
	for d in "$dir"/[0-9]*-[0-9]*-*/; do
		[[ -d $d ]] || continue
		d=${d%/}
		printf '%s\n' "${d##*/}"
	done | sort -r
}

# The schedules `wm serve --workflows` keeps, by name.
_wm_schedules()
{
	local f
	for f in "$(_wm_state_dir)"/schedule/*.json; do
		[[ -e $f ]] && f=${f##*/} && printf '%s\n' "${f%.json}"
	done
}

# The task cache's keys, by their first 12 digits as `wm cache ls` shows them.
_wm_cache_keys()
{
	local d
	for d in "$(_wm_state_dir)"/cache/*/; do
		[[ -f ${d}manifest.json ]] || continue
		d=${d%/}
		d=${d##*/}
		printf '%s\n' "${d:0:12}"
	done
}

# Task ids of run $1 (an id or a unique prefix): its logs/TASK.log files.
_wm_task_ids()
{
	local dir f run=()
	dir=$(_wm_state_dir)/runs
	run=("$dir/$1"*/)
	[[ ${#run[@]} -eq 1 && -d ${run[0]}logs ]] || return
	for f in "${run[0]}"logs/*.log; do
		[[ -f $f ]] || continue
		f=${f##*/}
		printf '%s\n' "${f%.log}"
	done
}

# COMPREPLY: the task ids of run $1 starting with $2. Not through
# compgen -W, which would expand a matrix instance's id (test[os=a,py=1])
# as a glob; such an id is escaped, as a shell must read it.
_wm_complete_ids()
{
	local id
	COMPREPLY=()
	while IFS= read -r id; do
		[[ $id == "$2"* ]] || continue
		[[ $id == *[[]* ]] && id=$(printf '%q' "$id")
		COMPREPLY+=("$id")
	done < <(_wm_task_ids "$1")
}

# wm cp's RUN:TASK[/PATH] in $1: run ids with ':', then RUN:task, then the
# task's outputs (by name only: nothing in them is followed).
_wm_run_task_spec()
{
	local word=$1 run rest dir f out=()
	compopt -o nospace 2>/dev/null
	if [[ $word != *:* ]]; then
		out=($(compgen -S : -W "$(_wm_run_ids)" -- "$word"))
	else
		run=${word%%:*} rest=${word#*:}
		if [[ $rest != */* ]]; then
			out=($(compgen -P "$run:" -W "$(_wm_task_ids "$run")" -- "$rest"))
		else
			dir=("$(_wm_state_dir)/runs/$run"*/)
			[[ ${#dir[@]} -eq 1 ]] || return
			for f in "${dir[0]}out/${rest%/*}/"*; do
				[[ -e $f || -L $f ]] || continue
				f=${rest%/*}/${f##*/}
				[[ -d ${dir[0]}out/$f && ! -L ${dir[0]}out/$f ]] && f+=/
				[[ $f == "$rest"* ]] && out+=("$run:$f")
			done
		fi
	fi
	# Readline replaces only what follows the last ':' when ':' breaks
	# words (COMP_WORDBREAKS): give it just that part.
	if [[ $word == *:* && ${COMP_WORDBREAKS-} == *:* ]]; then
		out=("${out[@]#"${word%"${word##*:}"}"}")
	fi
	COMPREPLY=("${out[@]}")
}

# The shell word being completed and how many arguments precede it after
# the command, from COMP_LINE: COMP_WORDS splits RUN:TASK at ':'.
_wm_shell_word()
{
	local line=${COMP_LINE:0:COMP_POINT} w n=0 seen=""
	word=${line##*[[:space:]]}
	for w in ${line%"$word"}; do
		if [[ -n $seen && $w != -* ]]; then
			((n++))
		elif [[ $w == "$cmd" ]]; then
			seen=1
		fi
	done
	nth=$n
}

_wm_templates()
{
	local names
	names=$("${COMP_WORDS[0]}" init --list 2>/dev/null | awk '{print $1}')
	[[ -n $names ]] || names="basic release ci data nightly incident security-scan rollout"
	printf '%s\n' "$names"
}

_wm_policies()
{
	local names
	names=$("${COMP_WORDS[0]}" policy list 2>/dev/null | awk '{print $1}')
	[[ -n $names ]] || names="minimal development testing standard hardened paranoid"
	printf '%s\n' "$names"
}

# Files matching the extended glob $1, and directories to descend into.
_wm_files()
{
	local IFS=$'\n' restore
	restore=$(shopt -p extglob)
	shopt -s extglob
	compopt -o filenames 2>/dev/null
	COMPREPLY+=($(compgen -f -X "!$1" -- "$cur") $(compgen -d -- "$cur"))
	eval "$restore"
}

_wm()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local commands="init run resume plan import status list orphans cancel logs stats ab audit policy
		sandbox outputs cp prune cache export report doctor image schedule serve help"
	local cmd="" sub="" i w opts="" argopts="" pos=() dashdash=""
	local IFS=$' \t\n'
	COMPREPLY=()

	# The command: the first word that is neither a global option nor its value.
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [[ -z $cmd ]]; then
			case $w in
			--state-dir) ((i++)) ;;
			-*) ;;
			*) cmd=$w ;;
			esac
			continue
		fi
		# Words after the command: options, their values, and positionals.
		if [[ -n $dashdash ]]; then
			pos+=("$w")
			continue
		fi
		case $w in
		--) dashdash=1 ;;
		--*=*) ;;
		--base | --grant) ((i++)) ;; # policy learn
		-j | --jobs | --policy | --policies | -e | --env | -p | --param | --secret | --workspace | -f | \
			--format | --task | --event | --since | --name | -o | --output | --timeout | \
			--executor | -t | --template | --tail | --from | --state | --keep | --older-than | \
			--level | --dialect | --listen | --workflows | --cors | --rate | --burst | \
			--body-limit | --max-streams | --heartbeat | --role | --runs | --a-runs | --b-runs | \
			--a-name | --b-name | --trend | --by)
			# -f is --force/--follow for resume/logs, --format for plan.
			if [[ $w != -f || $cmd == plan ]]; then ((i++)); fi
			;;
		-*) ;;
		*) pos+=("$w") ;;
		esac
	done

	if [[ -z $cmd ]]; then
		case $prev in
		--state-dir)
			compopt -o filenames 2>/dev/null
			COMPREPLY=($(compgen -d -- "$cur"))
			return
			;;
		esac
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--state-dir --version --help" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$commands" -- "$cur"))
		fi
		return
	fi

	# Values of options.
	if [[ $cmd == policy && $prev == @(-o|--output) ]]; then
		_wm_files '*.@(yaml|yml)' # policy learn: the policy file
		return
	fi
	case $prev in
	--policy | --base)
		COMPREPLY=($(compgen -W "$(_wm_policies)" -- "$cur"))
		return
		;;
	--grant)
		COMPREPLY=($(compgen -W "ptrace mount namespaces module bpf keyrings userfaultfd handles host io_uring raw" -- "$cur"))
		return
		;;
	--policies)
		_wm_files '*.@(yaml|yml)'
		return
		;;
	--workspace)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -d -- "$cur"))
		return
		;;
	-o | --output)
		# run and resume: how a run is shown; export: the bundle; report: the page.
		if [[ $cmd == run || $cmd == resume ]]; then
			COMPREPLY=($(compgen -W "compact stream" -- "$cur"))
		elif [[ $cmd == report ]]; then
			_wm_files '*.@(html|json)'
		else
			_wm_files '*.tar.zst'
		fi
		return
		;;
	--format)
		COMPREPLY=($(compgen -W "text dot json" -- "$cur"))
		return
		;;
	--executor)
		COMPREPLY=($(compgen -W "local slurm" -- "$cur"))
		return
		;;
	--dialect)
		COMPREPLY=($(compgen -W "mask xc runme wm auto" -- "$cur"))
		return
		;;
	--level)
		COMPREPLY=($(compgen -W "basic standard strict paranoid" -- "$cur"))
		return
		;;
	--by)
		COMPREPLY=($(compgen -W "day week" -- "$cur"))
		return
		;;
	-t | --template)
		COMPREPLY=($(compgen -W "$(_wm_templates)" -- "$cur"))
		return
		;;
	-f)
		if [[ $cmd == plan ]]; then
			COMPREPLY=($(compgen -W "text dot json" -- "$cur"))
			return
		fi
		;;
	--task)
		_wm_complete_ids "${pos[1]-}" "$cur"
		return
		;;
	--event)
		COMPREPLY=($(compgen -W "run.start run.end run.resume task.start task.end task.retry
			task.skip decision seccomp.denied limit.hit sla.breach rollback.start rollback.end
			checkpoint.error orphan.detected policy.weak audit.gap audit.rekey
			seccomp.denied.suppressed task.cached cache.miss cache.rejected cache.store.failed
			cache.unavailable" -- "$cur"))
		return
		;;
	--secret)
		# NAME: the variables of this environment (NAME=@FILE is typed).
		COMPREPLY=($(compgen -e -- "$cur"))
		return
		;;
	--state)
		# A comma-separated list: complete its last name.
		local pre=""
		[[ $cur == *,* ]] && pre=${cur%,*},
		COMPREPLY=($(compgen -P "$pre" -W "pending running succeeded failed cancelled
			interrupted orphaned broken" -- "${cur##*,}"))
		return
		;;
	-j | --jobs | -e | --env | -p | --param | --since | --name | --timeout | --tail | --from | \
		--keep | --older-than | --every | --count | --after | --listen | --cors | --rate | --burst | --body-limit | \
		--max-streams | --heartbeat | --runs | --a-runs | --b-runs | --a-name | --b-name | --trend)
		return
		;;
	--workflows)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -d -- "$cur"))
		return
		;;
	--role)
		COMPREPLY=($(compgen -W "read run" -- "$cur"))
		return
		;;
	esac

	case $cmd in
	init) opts="-t --template -f --force --list" ;;
	run) opts="-j --jobs --policy --policies -e --env -p --param --secret -k --keep-going --dry-run
		--interactive --detach --workspace --json -y --yes --executor -v --verbose --output
		--tail --from --cache --no-cache --all --dialect --level --every --count" ;;
	resume) opts="-j --jobs -f --force --reload --json --accept-audit-gap -v --verbose --output
		--tail -p --param" ;;
	cancel) opts="--timeout" ;;
	plan) opts="-f --format --policy --level --explain --dialect" ;;
	import) opts="--dialect -o --output" ;;
	status) opts="--json" ;;
	stats) opts="--json --since --trend --by" ;;
	ab) opts="--runs -j --jobs --json --a-runs --b-runs --a-name --b-name" ;;
	list) opts="--json -q --quiet --state --name --since" ;;
	orphans) opts="--json -q --quiet --name --since" ;;
	doctor) opts="--json --clean" ;;
	logs) opts="-f --follow" ;;
	audit) [[ ${pos[0]-} == show ]] && opts="--task --event --since --json" ;;
	policy)
		opts="--policies"
		[[ ${pos[0]-} == import-oci ]] && opts="--policies --name"
		[[ ${pos[0]-} == score ]] && opts="--policies --json"
		[[ ${pos[0]-} == learn && -z $dashdash ]] && opts="--policies --base --name -o --output --grant --"
		;;
	sandbox) [[ -z $dashdash ]] && opts="--policy --policies --workspace --timeout --" ;;
	export) opts="-o --output" ;;
	report) opts="-o --output --json" ;;
	serve)
		case ${pos[0]-}:${pos[1]-} in
		token:create) opts="--role --name" ;;
		token:list) opts="--json" ;;
		token:*) ;;
		*) opts="--listen --workflows --no-auth-read --cors --rate --burst --body-limit
			--max-streams --heartbeat" ;;
		esac
		;;
	outputs) opts="--json" ;;
	prune) opts="--keep --older-than --dry-run --force --json" ;;
	image) [[ ${pos[0]-} == @(ls|inspect|prune) ]] && opts="--json" ;;
	schedule)
		[[ ${pos[0]-} == next ]] && opts="-n --count --after"
		[[ ${pos[0]-} == list ]] && opts="--json"
		;;
	cache)
		case ${pos[0]-} in
		ls | show) opts="--json" ;;
		prune) opts="--older-than" ;;
		esac
		;;
	esac
	if [[ $cur == -* && -z $dashdash ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return
	fi

	# Positional arguments.
	case $cmd in
	run | plan | init | import)
		[[ ${#pos[@]} -eq 0 ]] && _wm_files '*.md'
		;;
	resume | status | cancel | stats | export | report)
		[[ ${#pos[@]} -eq 0 ]] && COMPREPLY=($(compgen -W "$(_wm_run_ids)" -- "$cur"))
		;;
	cp)
		local word=$cur nth=${#pos[@]}
		[[ -n ${COMP_LINE-} ]] && _wm_shell_word
		if ((nth == 0)); then
			_wm_run_task_spec "$word"
		elif ((nth == 1)); then
			compopt -o filenames 2>/dev/null
			COMPREPLY=($(compgen -f -- "$cur"))
		fi
		;;
	logs | outputs)
		if [[ ${#pos[@]} -eq 0 ]]; then
			COMPREPLY=($(compgen -W "$(_wm_run_ids)" -- "$cur"))
		elif [[ ${#pos[@]} -eq 1 ]]; then
			_wm_complete_ids "${pos[0]}" "$cur"
		fi
		;;
	schedule)
		if [[ ${#pos[@]} -eq 0 ]]; then
			COMPREPLY=($(compgen -W "next list pause resume" -- "$cur"))
		elif [[ ${#pos[@]} -eq 1 && ${pos[0]} == next ]]; then
			_wm_files '*.md'
		elif [[ ${#pos[@]} -eq 1 && ${pos[0]} == @(pause|resume) ]]; then
			COMPREPLY=($(compgen -W "$(_wm_schedules)" -- "$cur"))
		fi
		;;
	cache)
		if [[ ${#pos[@]} -eq 0 ]]; then
			COMPREPLY=($(compgen -W "ls show rm prune" -- "$cur"))
		elif [[ ${pos[0]} == show && ${#pos[@]} -eq 1 || ${pos[0]} == rm ]]; then
			COMPREPLY=($(compgen -W "$(_wm_cache_keys)" -- "$cur"))
		fi
		;;
	serve)
		if [[ ${#pos[@]} -eq 0 ]]; then
			COMPREPLY=($(compgen -W "token" -- "$cur"))
		elif [[ ${pos[0]} == token && ${#pos[@]} -eq 1 ]]; then
			COMPREPLY=($(compgen -W "create list revoke" -- "$cur"))
		fi
		;;
	audit)
		if [[ ${#pos[@]} -eq 0 ]]; then
			COMPREPLY=($(compgen -W "show verify rekey" -- "$cur"))
		elif [[ ${#pos[@]} -eq 1 && ${pos[0]} != rekey ]]; then
			COMPREPLY=($(compgen -W "$(_wm_run_ids)" -- "$cur"))
		fi
		;;
	image)
		if [[ ${#pos[@]} -eq 0 ]]; then
			COMPREPLY=($(compgen -W "ls inspect rm prune" -- "$cur"))
		elif [[ ${pos[0]} == @(inspect|rm) ]]; then
			COMPREPLY=($(compgen -W "oci: docker-archive:" -- "$cur"))
			[[ $cur == @(oci|docker-archive):* ]] && compopt -o filenames 2>/dev/null &&
				COMPREPLY=($(compgen -f -P "${cur%%:*}:" -- "${cur#*:}"))
		fi
		;;
	policy)
		if [[ -n $dashdash && ${pos[0]-} == learn ]]; then
			[[ ${#pos[@]} -eq 1 ]] && COMPREPLY=($(compgen -c -- "$cur"))
		elif [[ ${#pos[@]} -eq 0 ]]; then
			COMPREPLY=($(compgen -W "list show check diff score learn import-oci" -- "$cur"))
		else
			case ${pos[0]}:${#pos[@]} in
			show:1 | diff:1 | diff:2 | score:1)
				COMPREPLY=($(compgen -W "$(_wm_policies)" -- "$cur"))
				;;
			check:1) _wm_files '*.@(yaml|yml)' ;;
			import-oci:1) _wm_files '*.json' ;;
			learn:1) _wm_files '*.md' ;;
			esac
		fi
		;;
	sandbox)
		if [[ -n $dashdash ]]; then
			if [[ ${#pos[@]} -eq 0 ]]; then
				COMPREPLY=($(compgen -c -- "$cur"))
			else
				compopt -o default 2>/dev/null
			fi
		fi
		;;
	help)
		[[ ${#pos[@]} -eq 0 ]] && COMPREPLY=($(compgen -W "$commands" -- "$cur"))
		;;
	esac
	return 0
}

complete -F _wm wm
