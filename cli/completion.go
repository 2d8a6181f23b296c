package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
)

// The completion scripts ask the binary itself (datamap __complete WORDS…)
// for the candidates, so that they never fall behind its commands and
// flags. A mistyped or unknown word completes to nothing, and bash falls
// back to file names (emit takes files).
var completionScripts = map[string]string{
	"bash": `# bash completion for datamap
_datamap() {
	local IFS=$'\n'
	COMPREPLY=($(datamap __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
}
complete -o default -F _datamap datamap
`,
	"zsh": `#compdef datamap
# zsh completion for datamap
_datamap() {
	local -a candidates
	candidates=("${(@f)$(datamap __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
	(( ${#candidates} )) && [[ -n ${candidates[1]} ]] && compadd -a candidates || _files
}
compdef _datamap datamap
`,
	"fish": `# fish completion for datamap
complete -c datamap -a '(datamap __complete (commandline -opc)[2..-1] (commandline -ct) 2>/dev/null)'
`,
}

func runCompletion(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "completion", "bash|zsh|fish", `
Print the shell completion script of datamap: commands, their flags and
subcommands complete with Tab.`, `
  source <(datamap completion bash)                 # this shell; add it to ~/.bashrc to keep it
  datamap completion zsh > "${fpath[1]}/_datamap"   # then start a new shell
  datamap completion fish > ~/.config/fish/completions/datamap.fish`)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("name one shell: bash, zsh or fish")
	}
	script, ok := completionScripts[fs.Arg(0)]
	if !ok {
		return usagef("%q is not a shell datamap completes for; use bash, zsh or fish", fs.Arg(0))
	}
	_, err := io.WriteString(e.stdout, script)
	return err
}

// complete prints the candidates for the last of words (the word being
// typed; words are the command line after "datamap"), one per line.
func complete(ctx context.Context, e *env, words []string) {
	if len(words) == 0 {
		words = []string{""}
	}
	typed := words[len(words)-1]
	var candidates []string
	switch {
	case len(words) == 1:
		for _, c := range commands() {
			candidates = append(candidates, c.name)
		}
		candidates = append(candidates, "help", "--help", "--version")
	case strings.HasPrefix(typed, "-"):
		candidates = commandFlags(ctx, e, words[0])
	}
	for _, c := range candidates {
		if strings.HasPrefix(c, typed) {
			fmt.Fprintln(e.stdout, c)
		}
	}
}

// commandFlags are the flags a command's --help lists.
func commandFlags(ctx context.Context, e *env, name string) []string {
	for _, c := range commands() {
		if c.name != name {
			continue
		}
		var help bytes.Buffer
		quietEnv := *e
		quietEnv.stdout, quietEnv.stderr = &help, io.Discard
		_ = c.run(ctx, &quietEnv, []string{"--help"})
		var flags []string
		for line := range strings.Lines(help.String()) {
			if rest, ok := strings.CutPrefix(line, "  -"); ok {
				flags = append(flags, "-"+strings.Fields(rest)[0])
			}
		}
		return append(flags, "--help")
	}
	return nil
}
