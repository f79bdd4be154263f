#!/usr/bin/env bash
# Runs the generated completion scripts in bash, zsh and fish and checks what they offer.
# Usage: test_completion.sh PATH/TO/momento-auth
set -euo pipefail
cli=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
touch "$work/key.json"
fail=0
expect() {  # expect NAME "OFFERED WORDS" WORD...
  local name=$1 got=" $2 "
  shift 2
  for w in "$@"; do
    if [[ $got != *" $w "* ]]; then
      echo "FAIL $name: '$w' not offered; got:$got"
      fail=1
    fi
  done
}

# bash: call the completion function the way readline does.
"$cli" completion bash > "$work/c.bash"
bash_complete() {
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _momento_auth; echo "${COMPREPLY[*]}"' \
    _ "$work/c.bash" "$@"
}
expect "bash top" "$(bash_complete momento-auth gen)" generate generate-disposable-token
expect "bash option" "$(bash_complete momento-auth generate --sc)" --scope
expect "bash scope values" "$(bash_complete momento-auth generate --scope '')" super-user all-data-read-write all-data-read-only
expect "bash nested" "$(bash_complete momento-auth cache s)" set
expect "bash nested option" "$(bash_complete momento-auth cache set --)" --cache --ttl --key-file
expect "bash global after subcommand" "$(bash_complete momento-auth inspect --exp)" --expires-within
expect "bash files" "$(bash_complete momento-auth --key-file "$work/ke")" "$work/key.json"
expect "bash shells" "$(bash_complete momento-auth completion '')" bash zsh fish

# zsh: the function reads $words and $CURRENT and calls compadd/_files; outside a completion
# widget those are replaced by functions that print what would be offered.
"$cli" completion zsh > "$work/_momento-auth"
zsh -n "$work/_momento-auth"
zsh_complete() {
  zsh -f -c 'compadd() { [[ $1 == -- ]] && shift; print -r -- "$@"; }; _files() { print -r -- FILES; }
             compdef() { :; }; source "$1"; shift; words=("$@"); CURRENT=$#; _momento-auth' \
    _ "$work/_momento-auth" "$@" | tr '\n' ' '
}
expect "zsh top" "$(zsh_complete momento-auth gen)" generate generate-disposable-token keep-fresh
expect "zsh nested" "$(zsh_complete momento-auth cache '')" set get list-caches
expect "zsh scope values" "$(zsh_complete momento-auth generate --scope '')" super-user
expect "zsh files" "$(zsh_complete momento-auth refresh --file '')" FILES

# fish: complete -C asks fish itself what it would offer.
"$cli" completion fish > "$work/c.fish"
fish_complete() {
  fish --no-config -c "source $work/c.fish; complete -C '$1'" | cut -f1 | tr '\n' ' '
}
expect "fish top" "$(fish_complete 'momento-auth gen')" generate generate-disposable-token
expect "fish nested" "$(fish_complete 'momento-auth cache s')" set
expect "fish option" "$(fish_complete 'momento-auth generate --')" --scope --permit --expires-in --key-file
expect "fish scope values" "$(fish_complete 'momento-auth generate --scope ')" super-user all-data-read-only
expect "fish files" "$(fish_complete "momento-auth refresh --file $work/ke")" "$work/key.json"

[[ $fail == 0 ]] && echo "completion: bash, zsh and fish offer the expected words"
exit $fail
