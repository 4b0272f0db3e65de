#!/usr/bin/zsh -f
# zsh_complete.zsh FPATH_DIR LINE: what zsh's completion system offers at the
# end of LINE (say "wm ru"), one match per line, as an interactive zsh with
# compinit and FPATH_DIR first in $fpath computes it. The shell runs in a
# pseudo-terminal (zsh/zpty); compadd is wrapped to print each match it is
# given, after filtering by what was typed.
zmodload zsh/zpty || exit 2
dir=$1 line=$2
zpty wmz zsh -f -i || exit 2
zpty -w wmz "PS1= RPS1= PROMPT_EOL_MARK=; unsetopt zle_bracketed_paste 2>/dev/null"
zpty -w wmz "fpath=(${(q)dir} \$fpath); autoload -Uz compinit; compinit -u -D"
zpty -w wmz "zstyle ':completion:*' list-prompt ''; zstyle ':completion:*' menu no"
zpty -w wmz 'compadd() {
	local -a wm_hits
	if (( ${@[(I)-[OAD]*]} )); then builtin compadd "$@"; return; fi
	builtin compadd -A wm_hits "$@"
	local h
	for h in $wm_hits; do print -r -- "<<hit>>$h"; done
	builtin compadd "$@"
}'
zpty -w wmz '_wm_test_tab() { zle complete-word; print -r -- "<<end>>"; }'
zpty -w wmz 'zle -N _wm_test_tab; bindkey "^I" _wm_test_tab'
zpty -w wmz 'print -r -- "<<ready>>"'
zpty -r -m wmz out '*<<ready>>*' || exit 2
zpty -n -w wmz "$line"$'\t'
zpty -r -m wmz out '*<<end>>*' || exit 2
# ZLE may print a hit on the line being edited: take each after its marker.
print -r -- "$out" | grep -ao '<<hit>>[^[:cntrl:]]*' | sed 's/^<<hit>>//' | sort -u
zpty -d wmz
