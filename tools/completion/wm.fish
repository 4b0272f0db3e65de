# fish completion for wm(1).
# Installed as share/fish/vendor_completions.d/wm.fish; or copy it to
# ~/.config/fish/completions/.
#
# Completes what tools/completion/wm.bash does: commands with their
# descriptions, each command's options (those of orchestrator/cmd_*.c),
# workflow files (*.md), policy files (*.yaml), OCI profiles (*.json), run
# ids (directories under STATE/runs, STATE from --state-dir on the line,
# else $WM_STATE_DIR, $XDG_STATE_HOME/wm, ~/.local/state/wm), task ids of a
# run (its logs/TASK.log files), wm cp's RUN:TASK/PATH (a task's outputs),
# policy names (`wm policy list`), template names (`wm init --list`) and,
# after --secret, exported variable names.

# Options whose value is the next word.
set -g __wm_valued --state-dir -j --jobs --policy --policies -e --env -p --param --secret --workspace --format \
    --task --event --since --name -o --output --timeout --executor -t --template --tail --from \
    --state --keep --older-than --level --dialect --runs --a-runs --b-runs --a-name --b-name --trend --by

# The words of the line before the cursor without options and their values:
# wm, the command, its arguments.
function __wm_words
    set -l tokens (commandline -opc)
    set -l cmd
    set -l skip 0
    for t in $tokens[2..-1]
        if test $skip = 1
            set skip 0
            continue
        end
        # -f takes a value only for plan (--format); it is --force or --follow elsewhere.
        if contains -- $t $__wm_valued; or test "$t" = -f -a "$cmd" = plan
            set skip 1
        else if not string match -q -- '-*' $t
            set -a cmd $t
        end
    end
    test (count $cmd) -gt 0; and printf '%s\n' $cmd
end

function __wm_needs_command
    test (count (__wm_words)) -eq 0
end

# __wm_using CMD [N]: the command is CMD (and N arguments follow it).
function __wm_using
    set -l w (__wm_words)
    test "$w[1]" = $argv[1]; or return 1
    test (count $argv) -lt 2; or test (math (count $w) - 1) -eq $argv[2]
end

# __wm_sub NAME...: the command's first argument (a subcommand) is one of NAME.
function __wm_sub
    set -l w (__wm_words)
    contains -- "$w[2]" $argv
end

function __wm_state_dir
    set -l tokens (commandline -opc)
    for i in (seq (count $tokens))
        if test "$tokens[$i]" = --state-dir
            echo $tokens[(math $i + 1)]
            return
        else if string match -q -- '--state-dir=*' $tokens[$i]
            string replace -- --state-dir= '' $tokens[$i]
            return
        end
    end
    if test -n "$WM_STATE_DIR"
        echo $WM_STATE_DIR
    else if test -n "$XDG_STATE_HOME"
        echo $XDG_STATE_HOME/wm
    else
        echo $HOME/.local/state/wm
    end
end

# Run ids, newest first (ids sort by time).
function __wm_run_ids
    set -l dir (__wm_state_dir)/runs
    for d in $dir/*/
        basename $d
    end | string match -r '^[0-9]{8}-[0-9]{6}-[0-9a-f]+$' | sort -r
end

# The task cache's keys, by their first 12 digits as `wm cache ls` shows them.
function __wm_cache_keys
    for m in (__wm_state_dir)/cache/*/manifest.json
        string sub -l 12 (basename (dirname $m))
    end
end

# Task ids of the run named first after the command.
function __wm_task_ids
    set -l w (__wm_words)
    set -l run $w[2]
    test "$w[1]" = audit; and set run $w[3]
    test -n "$run"; or return
    set -l runs (__wm_state_dir)/runs/$run*/
    test (count $runs) -eq 1; or return
    for f in $runs[1]logs/*.log
        basename $f .log
    end
end

# wm cp's RUN:TASK[/PATH]: run ids with a ':', then the run's tasks, then
# what the task left, by name (nothing in it is followed).
function __wm_cp_source
    set -l tok (commandline -ct)
    if not string match -q -- '*:*' $tok
        for id in (__wm_run_ids)
            echo $id:
        end
        return
    end
    set -l parts (string split -m1 : -- $tok)
    set -l runs (__wm_state_dir)/runs/$parts[1]*/
    test (count $runs) -eq 1; or return
    if not string match -q -- '*/*' $parts[2]
        for f in $runs[1]logs/*.log
            echo $parts[1]:(basename $f .log)/
        end
        return
    end
    set -l sub (string replace -r '/[^/]*$' '' -- $parts[2])
    for f in $runs[1]out/$sub/*
        if test -d $f; and not test -L $f
            echo $parts[1]:$sub/(basename $f)/
        else
            echo $parts[1]:$sub/(basename $f)
        end
    end
end

function __wm_policies
    set -l names (command wm policy list 2>/dev/null | string replace -r ' .*' '')
    test (count $names) -gt 0; or set names minimal development testing standard hardened paranoid
    printf '%s\n' $names
end

function __wm_templates
    command wm init --list 2>/dev/null | string replace -r '^(\S+)\s+(.*)$' '$1\t$2'
    or printf '%s\n' basic release ci data nightly incident security-scan rollout
end

complete -c wm -f

# Global options.
complete -c wm -n __wm_needs_command -l state-dir -r -a '(__fish_complete_directories)' -d 'Where runs are kept'
complete -c wm -n __wm_needs_command -l version -d 'Print the version'
complete -c wm -n __wm_needs_command -s h -l help -d 'List the commands'

# Commands, in `wm help` order.
complete -c wm -n __wm_needs_command -a init -d 'Write a starting workflow from a template'
complete -c wm -n __wm_needs_command -a run -d 'Run a workflow, each task in its sandbox'
complete -c wm -n __wm_needs_command -a resume -d 'Finish a run whose orchestrator died'
complete -c wm -n __wm_needs_command -a plan -d 'Validate a workflow and show its DAG'
complete -c wm -n __wm_needs_command -a import -d "Write another tool's Markdown tasks as a native workflow"
complete -c wm -n __wm_needs_command -a status -d 'Show one run (default: the newest)'
complete -c wm -n __wm_needs_command -a list -d 'List runs, newest first'
complete -c wm -n __wm_needs_command -a orphans -d 'List runs whose orchestrator died'
complete -c wm -n __wm_needs_command -a cancel -d 'Stop a live run gracefully'
complete -c wm -n __wm_needs_command -a logs -d "Show a run's task output"
complete -c wm -n __wm_needs_command -a stats -d 'Statistics of one run or of all history'
complete -c wm -n __wm_needs_command -a ab -d 'Compare two workflows, or two sets of runs, with statistical tests'
complete -c wm -n __wm_needs_command -a audit -d "Show or verify a run's audit log; replace a lost key"
complete -c wm -n __wm_needs_command -a policy -d 'Inspect and check security policies'
complete -c wm -n __wm_needs_command -a sandbox -d 'Run one command in a sandbox'
complete -c wm -n __wm_needs_command -a outputs -d "Show where a run's task outputs are, file by file"
complete -c wm -n __wm_needs_command -a cp -d "Copy a task's output file or directory out"
complete -c wm -n __wm_needs_command -a prune -d 'Remove old runs from the state directory'
complete -c wm -n __wm_needs_command -a cache -d "List, show or remove the task cache's entries"
complete -c wm -n __wm_needs_command -a export -d 'Bundle a run directory for review'
complete -c wm -n __wm_needs_command -a report -d 'One run as a self-contained HTML page'
complete -c wm -n __wm_needs_command -a serve -d 'The REST API and live dashboard over the state directory'
complete -c wm -n __wm_needs_command -a doctor -d 'Show which kernel features this host offers'
complete -c wm -n __wm_needs_command -a image -d 'List, inspect and remove the images tasks run in'
complete -c wm -n __wm_needs_command -a schedule -d 'Show, pause and resume scheduled workflows'
complete -c wm -n __wm_needs_command -a help -d 'Show help'

# init
complete -c wm -n '__wm_using init' -s t -l template -x -a '(__wm_templates)' -d 'The template'
complete -c wm -n '__wm_using init' -s f -l force -d 'Replace an existing file'
complete -c wm -n '__wm_using init' -l list -d 'List the templates'
complete -c wm -n '__wm_using init 0' -k -a '(__fish_complete_suffix .md)'

# run, plan
complete -c wm -n '__wm_using run' -s j -l jobs -x -d 'Tasks at once'
complete -c wm -n '__wm_using run; or __wm_using plan' -l policy -x -a '(__wm_policies)' -d 'The floor, and the policy of tasks naming none'
complete -c wm -n '__wm_using run' -l policies -r -k -a '(__fish_complete_suffix .yaml)' -d 'An extra policy file'
complete -c wm -n '__wm_using run' -s e -l env -x -d 'KEY=VALUE for every task'
complete -c wm -n '__wm_using run; or __wm_using resume' -s p -l param -x -d 'NAME=VALUE: a parameter'
complete -c wm -n '__wm_using run' -l secret -x -a '(set -nx)' -d 'A secret: NAME from the environment, or NAME=@FILE'
complete -c wm -n '__wm_using run' -s k -l keep-going -d 'Independent branches go on after a failure'
complete -c wm -n '__wm_using run' -l dry-run -d 'Print what would run, run nothing'
complete -c wm -n '__wm_using run' -l interactive -d 'Ask before each task'
complete -c wm -n '__wm_using run' -l detach -d 'Go on in the background'
complete -c wm -n '__wm_using run' -l workspace -x -a '(__fish_complete_directories)' -d "The tasks' working tree"
complete -c wm -n '__wm_using run' -l json -d 'One JSON object per event'
complete -c wm -n '__wm_using run' -l all -d "Every task of a menu (another tool's file, a README.md)"
complete -c wm -n '__wm_using run; or __wm_using plan; or __wm_using import' -l dialect -x -a 'mask xc runme wm auto' -d 'Read the file as'
complete -c wm -n '__wm_using import' -s o -l output -r -d 'Write the native workflow here'
complete -c wm -n '__wm_using import 0' -k -a '(__fish_complete_suffix .md)'
complete -c wm -n '__wm_using run' -s y -l yes -d 'Run a file not yours that asks for a weak policy'
complete -c wm -n '__wm_using run' -l executor -x -a 'local slurm' -d 'Where tasks run'
complete -c wm -n '__wm_using run' -l from -x -d 'Run this task and what follows it'
complete -c wm -n '__wm_using run' -l cache -d 'Every task uses the task cache'
complete -c wm -n '__wm_using run' -l no-cache -d 'No task uses the task cache'
complete -c wm -n '__wm_using plan; or __wm_using run' -l level -x -a 'basic standard strict paranoid' -d 'The validation level'
complete -c wm -n '__wm_using ab' -l runs -x -d 'Runs of each workflow, alternately'
complete -c wm -n '__wm_using ab' -s j -l jobs -x -d 'Passed to each wm run'
complete -c wm -n '__wm_using ab' -l json -d 'Print JSON'
complete -c wm -n '__wm_using ab' -l a-runs -x -d 'Finished runs as side A (ID,ID...)'
complete -c wm -n '__wm_using ab' -l b-runs -x -d 'Finished runs as side B (ID,ID...)'
complete -c wm -n '__wm_using ab' -l a-name -x -d 'Every finished run of this workflow as side A'
complete -c wm -n '__wm_using ab' -l b-name -x -d 'Every finished run of this workflow as side B'
complete -c wm -n '__wm_using ab' -k -a '(__fish_complete_suffix .md)'
complete -c wm -n '__wm_using run' -l every -x -d 'Run again and again: an interval (1h) or a schedule (0 3 * * *)'
complete -c wm -n '__wm_using run' -l count -x -d 'With --every: stop after so many runs'
complete -c wm -n '__wm_using plan' -l explain -d 'Which tasks the next run would reuse, and why the rest run'
complete -c wm -n '__wm_using run; or __wm_using resume' -s v -l verbose -d 'Show every event, with its time and fields'
complete -c wm -n '__wm_using run; or __wm_using resume' -l output -x -a 'compact stream' -d 'What is shown'
complete -c wm -n '__wm_using run; or __wm_using resume' -l tail -x -d "Lines of a failed task's log shown"
complete -c wm -n '__wm_using plan' -s f -l format -x -a 'text dot json' -d 'Output format'
complete -c wm -n '__wm_using run 0; or __wm_using plan 0' -k -a '(__fish_complete_suffix .md)'

# resume
complete -c wm -n '__wm_using resume' -s j -l jobs -x -d 'Tasks at once'
complete -c wm -n '__wm_using resume' -s f -l force -d 'Keep nothing: run every task again'
complete -c wm -n '__wm_using resume' -l reload -d 'Read the workflow again from its path'
complete -c wm -n '__wm_using resume' -l json -d 'One JSON object per event'
complete -c wm -n '__wm_using resume' -l accept-audit-gap -d 'Go on although the audit log is damaged'

# Commands taking one run id.
for c in resume status cancel stats export report logs outputs
    complete -c wm -n "__wm_using $c 0" -k -a '(__wm_run_ids)' -d 'Run'
end
complete -c wm -n '__wm_using logs 1; or __wm_using outputs 1' -a '(__wm_task_ids)' -d 'Task'
complete -c wm -n '__wm_using outputs' -l json -d 'Print JSON'
complete -c wm -n '__wm_using stats' -l trend -x -d "One workflow's success rate and duration over time"
complete -c wm -n '__wm_using stats' -l by -x -a 'day week' -d 'With --trend: per day or week'
complete -c wm -n '__wm_using stats' -l since -x -d 'The history of the runs started at or after (2026-11-22, 2h, 3d, today)'

# list, orphans
complete -c wm -n '__wm_using list; or __wm_using orphans' -s q -l quiet -d 'The ids only'
complete -c wm -n '__wm_using list; or __wm_using orphans' -l name -x -d 'Only runs of the workflows matching'
complete -c wm -n '__wm_using list; or __wm_using orphans' -l since -x -d 'Only runs started at or after (2026-11-22, 2h, 3d, today)'
complete -c wm -n '__wm_using list' -l state -x -d 'Only runs in these states' \
    -a '(__fish_append , pending running succeeded failed cancelled interrupted orphaned broken)'

# cp, prune
complete -c wm -n '__wm_using cp 0' -a '(__wm_cp_source)' -d 'Output'
complete -c wm -n '__wm_using cp 1' -F
complete -c wm -n '__wm_using prune' -l keep -x -d 'Keep the N newest runs'
complete -c wm -n '__wm_using prune' -l older-than -x -d 'Runs that ended longer ago than (12h, 3d, 1w)'
complete -c wm -n '__wm_using prune' -l dry-run -d 'Say what would go; remove nothing'
complete -c wm -n '__wm_using prune' -l force -d 'Remove failed, interrupted, orphaned and broken runs too'
complete -c wm -n '__wm_using prune' -l json -d 'Print JSON'
complete -c wm -n '__wm_using logs' -s f -l follow -d 'Keep printing as the run goes on'
complete -c wm -n '__wm_using status; or __wm_using list; or __wm_using orphans; or __wm_using stats' -l json -d 'Print JSON'
complete -c wm -n '__wm_using cancel' -l timeout -x -d 'How long to wait for the run to stop'
complete -c wm -n '__wm_using export' -s o -l output -r -k -a '(__fish_complete_suffix .tar.zst)' -d 'The bundle'
complete -c wm -n '__wm_using report' -s o -l output -r -k -a '(__fish_complete_suffix .html)' -d 'The page (- for stdout)'
complete -c wm -n '__wm_using report' -l json -d 'The run document as JSON'

# schedule
complete -c wm -n '__wm_using schedule 0' -a next -d "The next fire times of a workflow's schedule"
complete -c wm -n '__wm_using schedule 0' -a list -d 'What wm serve --workflows schedules'
complete -c wm -n '__wm_using schedule 0' -a pause -d "Drop a schedule's fires"
complete -c wm -n '__wm_using schedule 0' -a resume -d 'Let a schedule fire again'
complete -c wm -n '__wm_using schedule; and __wm_sub list' -l json -d 'Print JSON'
complete -c wm -n '__wm_using schedule 1; and __wm_sub next' -k -a '(__fish_complete_suffix .md)'
complete -c wm -n '__wm_using schedule; and __wm_sub next' -s n -l count -x -d 'How many'
complete -c wm -n '__wm_using schedule; and __wm_sub next' -l after -x -d 'From this UTC time instead of now'

# serve
complete -c wm -n '__wm_using serve 0' -a token -d 'Make, list or revoke API keys'
complete -c wm -n '__wm_using serve' -l listen -x -d 'ADDR:PORT to listen on'
complete -c wm -n '__wm_using serve' -l workflows -x -a '(__fish_complete_directories)' -d 'The workflows the API may start'
complete -c wm -n '__wm_using serve' -l no-auth-read -d 'Reads need no key (loopback only)'
complete -c wm -n '__wm_using serve' -l cors -x -d 'Allow this origin'
complete -c wm -n '__wm_using serve' -l rate -x -d 'Requests a second per key'
complete -c wm -n '__wm_using serve' -l burst -x -d 'Burst per key'
complete -c wm -n '__wm_using serve' -l body-limit -x -d 'The largest request body'
complete -c wm -n '__wm_using serve' -l max-streams -x -d 'Event streams at once'
complete -c wm -n '__wm_using serve' -l heartbeat -x -d 'Seconds between heartbeats'
complete -c wm -n '__fish_seen_subcommand_from token; and __wm_using serve 1' -a 'create list revoke' -d 'API key subcommand'
complete -c wm -n '__fish_seen_subcommand_from token' -l role -x -a 'read run' -d 'What the key may do'
complete -c wm -n '__fish_seen_subcommand_from token' -l name -x -d "The key's name"

# cache
complete -c wm -n '__wm_using cache 0' -a ls -d 'List the entries'
complete -c wm -n '__wm_using cache 0' -a show -d "One entry's key parts and files"
complete -c wm -n '__wm_using cache 0' -a rm -d 'Remove entries'
complete -c wm -n '__wm_using cache 0' -a prune -d 'Evict down to the cap, or by age'
complete -c wm -n '__wm_using cache; and __wm_sub ls show' -l json -d 'Print JSON'
complete -c wm -n '__wm_using cache; and __wm_sub prune' -l older-than -x -d 'Entries unused for longer than (12h, 3d, 1w)'
complete -c wm -n '__wm_using cache 1; and __wm_sub show rm' -a '(__wm_cache_keys)' -d 'Key'

# audit
complete -c wm -n '__wm_using audit 0' -a show -d "Print a run's audit log"
complete -c wm -n '__wm_using audit 0' -a verify -d 'Check its MAC chain'
complete -c wm -n '__wm_using audit 0' -a rekey -d 'Make a new audit key'
complete -c wm -n '__wm_using audit 1; and __wm_sub show verify' -k -a '(__wm_run_ids)' -d 'Run'
complete -c wm -n '__wm_using audit; and __wm_sub show' -l task -x -a '(__wm_task_ids)' -d 'Only events of this task'
complete -c wm -n '__wm_using audit; and __wm_sub show' -l event -x -d 'Only events of this name' \
    -a 'run.start run.end run.resume task.start task.end task.retry task.skip decision seccomp.denied seccomp.denied.suppressed limit.hit limit.unenforced sla.breach rollback.start rollback.end checkpoint.error orphan.detected policy.weak audit.gap audit.rekey task.cached cache.miss cache.rejected cache.store.failed cache.unavailable'
complete -c wm -n '__wm_using audit; and __wm_sub show' -l since -x -d 'Only events at or after (2026-11-22, 2h, 3d, today)'
complete -c wm -n '__wm_using audit; and __wm_sub show' -l json -d 'The lines as stored'

# policy
complete -c wm -n '__wm_using policy 0' -a list -d 'The policies in force'
complete -c wm -n '__wm_using policy 0' -a show -d 'A fully resolved policy'
complete -c wm -n '__wm_using policy 0' -a check -d 'Check a policy file'
complete -c wm -n '__wm_using policy 0' -a diff -d 'What one allows that the other does not'
complete -c wm -n '__wm_using policy 0' -a import-oci -d 'A policy from an OCI seccomp profile'
complete -c wm -n '__wm_using policy' -l policies -r -k -a '(__fish_complete_suffix .yaml)' -d 'A policy file on top of the others'
complete -c wm -n '__wm_using policy 1; and __wm_sub show diff' -a '(__wm_policies)' -d 'Policy'
complete -c wm -n '__wm_using policy 2; and __wm_sub diff' -a '(__wm_policies)' -d 'Policy'
complete -c wm -n '__wm_using policy 1; and __wm_sub check' -k -a '(__fish_complete_suffix .yaml)'
complete -c wm -n '__wm_using policy 1; and __wm_sub import-oci' -k -a '(__fish_complete_suffix .json)'
complete -c wm -n '__wm_using policy; and __wm_sub import-oci' -l name -x -d "The new policy's name"

# sandbox: options, then -- and a command.
complete -c wm -n '__wm_using sandbox; and not contains -- -- (commandline -opc)' -l policy -x -a '(__wm_policies)' -d 'The policy'
complete -c wm -n '__wm_using sandbox; and not contains -- -- (commandline -opc)' -l policies -r -k -a '(__fish_complete_suffix .yaml)' -d 'An extra policy file'
complete -c wm -n '__wm_using sandbox; and not contains -- -- (commandline -opc)' -l workspace -x -a '(__fish_complete_directories)' -d "The command's directory"
complete -c wm -n '__wm_using sandbox; and not contains -- -- (commandline -opc)' -l timeout -x -d "Override the policy's timeout"
complete -c wm -n '__wm_using sandbox; and contains -- -- (commandline -opc)' -x -a '(__fish_complete_subcommand --fcs-skip=(math (contains -i -- -- (commandline -opc))))'

# image
complete -c wm -n '__wm_using image 0' -a ls -d 'The cached images'
complete -c wm -n '__wm_using image 0' -a inspect -d "An image's digest, layers and config"
complete -c wm -n '__wm_using image 0' -a rm -d 'Remove cached images'
complete -c wm -n '__wm_using image 0' -a prune -d 'Remove leftovers and images whose source is gone'
complete -c wm -n '__wm_using image; and __wm_sub ls inspect prune' -l json -d 'Print JSON'

# doctor, help
complete -c wm -n '__wm_using doctor' -l json -d 'Print JSON'
complete -c wm -n '__wm_using doctor' -l clean -d 'First remove leftover cgroups'
complete -c wm -n '__wm_using help 0' -a 'init run resume plan import status list orphans cancel logs stats ab audit policy sandbox outputs cp prune cache export report doctor image serve help'
