# SPDX-License-Identifier: BSD-3-Clause
# bash completion for nodemeshctl: options, command words, and the keys
# each command takes. The command list is the daemon's table
# (`nodemeshd --commands`); the `docs` test fails if one is missing here.

_nodemeshctl() {
	local cur prev words cword
	if declare -F _init_completion >/dev/null; then
		_init_completion || return
	else
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD - 1]}
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
	fi

	case $prev in
	-s | --socket)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return
		;;
	-t | --timeout)
		return
		;;
	esac

	# The command words typed so far, options and their values skipped.
	local i cmd=()
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-s | --socket | -t | --timeout) ((i++)) ;;
		-*) ;;
		*) cmd+=("${words[i]}") ;;
		esac
	done

	local opts="-s --socket -j --json -t --timeout -h --help"
	local first="help version stats metrics observe pod identity peer tunnel cert policy sig flow config"
	local next=""
	case ${#cmd[@]} in
	0)
		mapfile -t COMPREPLY < <(compgen -W "$first $opts" -- "$cur")
		return
		;;
	1)
		case ${cmd[0]} in
		pod) next="add del list" ;;
		identity) next="set del list" ;;
		peer) next="add del list" ;;
		tunnel) next="list rekey" ;;
		cert) next="reload status" ;;
		policy) next="add del list load default" ;;
		sig) next="load list stats" ;;
		flow) next="list show flush" ;;
		config) next="reload" ;;
		esac
		mapfile -t COMPREPLY < <(compgen -W "$next" -- "$cur")
		return
		;;
	esac

	# Keys of the command (key=value arguments).
	case "${cmd[0]} ${cmd[1]}" in
	"pod add") next="name= namespace= serviceaccount= ip= iface= labels= image= driver= socket= mac= container=" ;;
	"pod del") next="name= namespace= container=" ;;
	"pod list") next="remote" ;;
	"identity set") next="namespace= name= serviceaccount= labels= image=" ;;
	"identity del") next="namespace= name=" ;;
	"peer add") next="name= address= fabric_ip= pod_cidr=" ;;
	"peer del") next="name=" ;;
	"tunnel rekey") next="peer=" ;;
	"policy del") next="id=" ;;
	"policy load" | "sig load") next="file=" ;;
	"policy default") next="allow deny" ;;
	"flow list") next="pod= limit=" ;;
	"flow show") next="src= dst= proto=" ;;
	"flow flush") next="pod=" ;;
	"observe "*) next="since= limit= pod= namespace= identity= type= verdict=" ;;
	esac
	if [[ $cur == file=* ]]; then
		mapfile -t COMPREPLY < <(compgen -f -P file= -- "${cur#file=}")
		return
	fi
	mapfile -t COMPREPLY < <(compgen -W "$next" -- "$cur")
	[[ ${COMPREPLY[0]:-} == *= ]] && compopt -o nospace
}
complete -F _nodemeshctl nodemeshctl
