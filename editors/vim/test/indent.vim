" `gg=G` on every bundled example and on editors/tests/every-construct.flow
" (all laid out by `flowc fmt`) must change no line. Run by
" scripts/test-editors as:
"   vim -Nu NONE -es -S editors/vim/test/indent.vim
" Prints each line it would move (with :print, on Vim's own stdout:
" reopening /dev/stdout would truncate a log it is redirected to) and
" exits non-zero if any.
set runtimepath^=editors/vim
filetype plugin indent on
syntax on

let s:failures = []
let s:lines = 0
for s:file in glob('examples/*.flow', 0, 1) + ['editors/tests/every-construct.flow']
  execute 'edit! ' . fnameescape(s:file)
  let s:before = getline(1, '$')
  let s:lines += len(s:before)
  silent normal! gg=G
  let s:after = getline(1, '$')
  for s:i in range(len(s:before))
    if s:before[s:i] !=# s:after[s:i]
      call add(s:failures, printf('%s:%d: indented %d, fmt says %d: %s', s:file, s:i + 1,
            \ indent(s:i + 1), len(matchstr(s:before[s:i], '^ *')), trim(s:before[s:i])))
    endif
  endfor
  silent! undo 0
endfor

if empty(s:failures)
  enew! | call setline(1, [printf('Vim: gg=G keeps all %d lines of the examples where flowc fmt puts them', s:lines)]) | %print
  qall!
endif
call add(s:failures, printf('%d of %d lines moved', len(s:failures), s:lines))
enew! | call setline(1, s:failures) | %print
cquit!
