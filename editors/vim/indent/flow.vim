" Indentation for flowc workflow files, as `flowc fmt` lays them out (two
" spaces a level): `gg=G` on a formatted file changes nothing, and a line
" typed anywhere gets the indent fmt would give it. Each line's indent is
" worked out from the lines above it (already indented when `=` runs top
" to bottom): the section it is in, the step or block it belongs to.
if exists("b:did_indent")
  finish
endif
let b:did_indent = 1

setlocal indentexpr=FlowIndent(v:lnum)
setlocal indentkeys=o,O,0=end,0=else,0=branch,0=variant,0=on\ ,0=if\ 

if exists("*FlowIndent")
  finish
endif

let s:section = '^\s*\(timezone\|re-entry\|look\|holidays\|fields\|event\|trigger\|windows\|goal\|steps\|on\s\+send\)\>'
let s:step = '^\s*\(send\|call\|notify\|http\|prompt\|wait\|condition\|split\|goto\|exit\|label\)\>'
let s:arm = '^\s*\(branch\|else\|variant\|on\|if\)\>'
let s:option = '^\s*\(to\|cc\|bcc\|from\|subject\|body\|agent\|message\|header\|timeout\|instructions\|tools\|extract\|transactional\|outside\)\>'

" Whether line `lnum` is inside a `"""` body (its first character is).
function! s:InBody(lnum) abort
  let stack = synstack(a:lnum, indent(a:lnum) + 1)
  return index(map(stack, 'synIDattr(v:val, "name")'), 'flowTriple') >= 0
endfunction

" The nearest line above `lnum` that is code: not blank, not a comment,
" not inside a body (a body's last line stands for the line that opened it).
function! s:Code(lnum) abort
  let lnum = prevnonblank(a:lnum - 1)
  while lnum > 0 && (getline(lnum) =~# '^\s*#' || s:InBody(lnum))
    let lnum = prevnonblank(lnum - 1)
  endwhile
  return lnum
endfunction

" The nearest code line above `lnum` indented less than `below`.
function! s:Up(lnum, below) abort
  let lnum = s:Code(a:lnum)
  while lnum > 0 && indent(lnum) >= a:below
    let lnum = s:Code(lnum)
  endwhile
  return lnum
endfunction

" The step each kind of arm belongs to.
function! s:Owner(arm) abort
  if a:arm =~# '^\s*on\s\+\(answered\|voicemail\|no\s\+answer\|failed\)\>'
    return '^\s*call\s\+phone\>'
  elseif a:arm =~# '^\s*on\s\+error\>'
    return '^\s*\(send\|notify\|http\|prompt\)\>'
  elseif a:arm =~# '^\s*on\>'
    return '^\s*wait\s\+for\>'
  elseif a:arm =~# '^\s*if\>'
    return '^\s*wait\s\+until\>'
  elseif a:arm =~# '^\s*variant\>'
    return '^\s*split\>'
  endif
  return '^\s*condition\>'
endfunction

" The indent of an arm: one level in from the step it belongs to, the
" nearest such step above `previous` (itself included) it can be under.
function! s:ArmIndent(arm, previous) abort
  let owner = s:Owner(a:arm)
  let lnum = a:previous
  while lnum > 0
    if getline(lnum) =~# owner
      return indent(lnum) + shiftwidth()
    endif
    let lnum = s:Up(lnum, indent(lnum))
  endwhile
  return indent(a:previous)
endfunction

" The indent of an `end`: that of the step whose arms it closes, found
" from the nearest arm above `previous` (itself included) at a lower indent.
function! s:EndIndent(previous) abort
  let lnum = a:previous
  while lnum > 0
    if getline(lnum) =~# s:arm
      return max([indent(lnum) - shiftwidth(), 0])
    endif
    let lnum = s:Up(lnum, indent(lnum))
  endwhile
  return indent(a:previous)
endfunction

function! FlowIndent(lnum) abort
  let line = getline(a:lnum)
  if line =~# '^\s*#' || s:InBody(a:lnum)
    return -1
  endif
  if line =~# '^\s*workflow\>'
    return 0
  endif
  if line =~# s:section
    return shiftwidth()
  endif
  let previous = s:Code(a:lnum)
  if previous == 0
    return 0
  endif
  let above = getline(previous)
  let indent = indent(previous)
  " Criteria go on over lines that start with `and` or `or`, one level in
  " from the line they continue.
  if line =~# '^\s*\(and\|or\)\>'
    return above =~# '^\s*\(and\|or\)\>' ? indent : indent + shiftwidth()
  endif
  if above =~# '^\s*\(and\|or\)\>'
    let head = previous
    while head > 0 && getline(head) =~# '^\s*\(and\|or\)\>'
      let head = s:Code(head)
    endwhile
    let previous = head
    let above = getline(head)
    let indent = indent(head)
  endif
  if line =~# '^\s*end\>'
    return s:EndIndent(previous)
  endif
  if line =~# s:arm && line !~# '^\s*on\s\+send\>'
    return s:ArmIndent(line, previous)
  endif
  " The section the line is in: its nearest line at the section indent.
  let section = previous
  while section > 0 && indent(section) > shiftwidth()
    let section = s:Code(section)
  endwhile
  if getline(section) =~# '^\s*\(fields\|event\|windows\)\>'
    return 2 * shiftwidth()
  endif
  if above =~# '^\s*\(workflow\|steps\)\>' || above =~# s:arm
    return indent + shiftwidth()
  endif
  if line =~# s:option
    return above =~# s:step ? indent + shiftwidth() : (above =~# s:option ? indent : s:OptionIndent(previous))
  endif
  " A step, or an extraction line under `extract`.
  if above =~# '^\s*extract\>'
    return indent + shiftwidth()
  endif
  if line =~# s:step
    if above =~# s:option
      return indent - shiftwidth()
    elseif above =~# s:step || above =~# '^\s*end\>'
      return indent
    endif
    return s:OptionIndent(previous) - shiftwidth()
  endif
  return above =~# s:step ? indent + shiftwidth() : indent
endfunction

" The indent of the options of the step whose extraction line `lnum` is.
function! s:OptionIndent(lnum) abort
  let extract = s:Up(a:lnum, indent(a:lnum))
  return extract > 0 ? indent(extract) : indent(a:lnum)
endfunction
