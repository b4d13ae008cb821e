import type { SHELLS } from './command-table.js';

// Each script hands the words before the cursor to `jit __complete` (src/cli/complete.ts) and
// turns its answer (one candidate per line, `name<TAB>description`, a last line `:files` for file
// names) into the shell's own completion, the way cobra's generated scripts drive `__complete`.
// Written with %{ for the shell's ${ (a template literal's own), put back by completionScript.

const BASH = String.raw`# bash completion for jit. Load it with: source <(jit completion bash)
_jit() {
    local cur raw line keep files=0 i w n
    local -a words=()
    # Bash splits "--role=x" at the "=" of COMP_WORDBREAKS: put such words back together.
    for ((i = 1; i <= COMP_CWORD; i++)); do
        w=%{COMP_WORDS[i]}
        n=%{#words[@]}
        if ((n > 0)) && [[ $w == = || %{words[n - 1]} == --*= ]] && [[ %{words[n - 1]} == --* ]]; then
            words[n - 1]+=$w
        else
            words+=("$w")
        fi
    done
    cur=%{words[%{#words[@]} - 1]}
    raw=%{COMP_WORDS[COMP_CWORD]}
    # Bash replaces only the raw current word: drop what it keeps in front of it.
    keep=$((%{#cur} - %{#raw}))
    COMPREPLY=()
    # Read line by line: no word splitting or globbing of what jit prints.
    while IFS= read -r line; do
        if [[ $line == :files ]]; then
            files=1
        else
            line=%{line%%$'	'*}
            COMPREPLY+=("%{line:keep}")
        fi
    done < <(command jit __complete "%{words[@]}" 2>/dev/null)
    if ((files)); then
        compopt -o filenames 2>/dev/null
        COMPREPLY=()
        while IFS= read -r line; do
            COMPREPLY+=("$line")
        done < <(compgen -f -- "$cur")
    fi
    return 0
}
complete -F _jit jit
`;

const ZSH = String.raw`#compdef jit
# zsh completion for jit. Install it with: jit completion zsh > "%{fpath[1]}/_jit"
# (or load it in this shell, after compinit: source <(jit completion zsh))
_jit() {
    local line files=0
    local -a cands
    for line in "%{(@f)$(command jit __complete "%{(@)words[2,CURRENT]}" 2>/dev/null)}"; do
        [[ -z $line ]] && continue
        if [[ $line == :files ]]; then
            files=1
        elif [[ $line == *$'\t'* ]]; then
            cands+=("%{%{line%%$'\t'*}//:/\\:}:%{line#*$'\t'}")
        else
            cands+=("%{line//:/\\:}")
        fi
    done
    if ((files)); then
        _files
        return
    fi
    (($#cands)) && _describe -t jit-candidates 'jit' cands
}
if [[ %{funcstack[1]} == _jit ]]; then
    _jit "$@"
else
    compdef _jit jit
fi
`;

const FISH = String.raw`# fish completion for jit. Install it with: jit completion fish > ~/.config/fish/completions/jit.fish
# (or load it in this shell: jit completion fish | source)
function __jit_complete
    set -l words (commandline -opc) (commandline -ct)
    set -e words[1]
    set -l out (command jit __complete $words 2>/dev/null)
    if contains -- :files $out
        __fish_complete_path (commandline -ct)
        return
    end
    printf '%s\n' $out
end
complete -c jit -f -a '(__jit_complete)'
`;

export function completionScript(shell: (typeof SHELLS)[number]): string {
  return { bash: BASH, zsh: ZSH, fish: FISH }[shell].replaceAll('%{', '${').replace(/\n$/, '');
}
