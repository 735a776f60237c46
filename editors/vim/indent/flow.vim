" Indentation for flowc workflow files: one level (2 spaces) after lines
" that open a section, step, branch or variant; `end`, `else`, `branch` and
" `variant` go back.
if exists("b:did_indent")
  finish
endif
let b:did_indent = 1

setlocal indentexpr=FlowIndent(v:lnum)
setlocal indentkeys=o,O,0=end,0=else,0=branch,0=variant

if exists("*FlowIndent")
  finish
endif

let s:opens = '^\s*\(workflow\>.*\|fields\|event\s\+\S\+\|windows\|steps\|condition\|split\|branch\>.*\|variant\>.*\|if\>.*\|else\|on\>.*\|extract\|send\s\+\(email\|text\)\|call\s\+phone\|notify\>.*\|http\>.*\|prompt\)\s*\(#.*\)\=$'

" The nearest line above `lnum` matching `pattern`, or 0.
function! s:Above(lnum, pattern) abort
  let lnum = a:lnum - 1
  while lnum > 0 && getline(lnum) !~# a:pattern
    let lnum -= 1
  endwhile
  return lnum
endfunction

" A helper while typing (nested blocks are not tracked): `flowc fmt`,
" which `gq` runs, gives the exact layout.
function! FlowIndent(lnum) abort
  let previous = prevnonblank(a:lnum - 1)
  if previous == 0
    return 0
  endif
  let line = getline(a:lnum)
  if line =~# '^\s*\(branch\|variant\|else\)\>' && getline(previous) !~# '^\s*\(condition\|split\)\>'
    let arm = s:Above(a:lnum, '^\s*\(branch\|variant\|else\)\>')
    return arm > 0 ? indent(arm) : indent(previous)
  endif
  if line =~# '^\s*end\>'
    let opener = s:Above(a:lnum, '^\s*\(condition\|split\|on\)\>')
    if opener == 0
      return indent(previous)
    endif
    return getline(opener) =~# '^\s*on\>' ? max([indent(opener) - shiftwidth(), 0]) : indent(opener)
  endif
  return indent(previous) + (getline(previous) =~# s:opens ? shiftwidth() : 0)
endfunction
