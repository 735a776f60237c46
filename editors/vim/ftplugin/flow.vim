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
" `gq` formats with `flowc fmt`, `:make` checks with `flowc check`: one
" quickfix entry per diagnostic, with its message.
setlocal formatexpr=FlowcFormat()
setlocal makeprg=flowc\ check\ --format\ short\ %
setlocal errorformat=%f:%l:%c:\ %trror%m,%f:%l:%c:\ %tarning%m

let b:undo_ftplugin = "setlocal commentstring< comments< expandtab< shiftwidth< softtabstop< tabstop< iskeyword< foldmethod< foldlevel< formatexpr< makeprg< errorformat<"

if exists("*FlowcFormat")
  finish
endif

" `flowc fmt` lays out whole files, so `gq` on any part formats the whole
" buffer; a file with errors is left as it is (`:make` lists them).
function! FlowcFormat() abort
  let l:lines = getline(1, '$')
  let l:formatted = systemlist('flowc fmt -', l:lines)
  if v:shell_error
    echohl WarningMsg
    echomsg 'flowc fmt: the file has errors, nothing was changed (:make lists them)'
    echohl None
    return 0
  endif
  if l:formatted !=# l:lines
    let l:view = winsaveview()
    call setline(1, l:formatted)
    if len(l:formatted) < len(l:lines)
      silent execute (len(l:formatted) + 1) . ',$delete _'
    endif
    call winrestview(l:view)
  endif
  return 0
endfunction
