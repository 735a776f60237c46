" flowc workflow files: comments, indentation, formatting and checking.
if exists("b:did_ftplugin")
  finish
endif
let b:did_ftplugin = 1

setlocal commentstring=#\ %s
setlocal comments=:#
setlocal expandtab shiftwidth=2 softtabstop=2 tabstop=2
setlocal iskeyword=@,48-57,_,-
" Indentation decides folds: a step folds with its options and branches.
setlocal foldmethod=indent foldlevel=99
" `gq` formats with `flowc fmt`, `:make` checks with `flowc check`.
setlocal formatprg=flowc\ fmt\ -
setlocal makeprg=flowc\ check\ %
setlocal errorformat=%.%#─[%f:%l:%c]

let b:undo_ftplugin = "setlocal commentstring< comments< expandtab< shiftwidth< softtabstop< tabstop< iskeyword< foldmethod< foldlevel< formatprg< makeprg< errorformat<"
