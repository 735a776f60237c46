" Checks every token of editors/tests/every-construct.flow, as flowc reads
" it (every-construct.tokens), against the syntax group Vim gives its first
" and last character: keywords get a keyword group, names never do, text
" is a string, and so on. Run by scripts/test-editors as:
"   vim -Nu NONE -es -S editors/vim/test/scopes.vim
" Prints each failure (with :print, on Vim's own stdout: reopening
" /dev/stdout would truncate a log it is redirected to) and exits
" non-zero if there is one.
set runtimepath^=editors/vim
filetype plugin indent on
syntax on
let s:table = readfile('editors/tests/every-construct.tokens')
edit editors/tests/every-construct.flow

let s:keywords = ['flowSection', 'flowWorkflow', 'flowEventDecl', 'flowStep', 'flowLabel',
      \ 'flowBlock', 'flowOutcome', 'flowOption', 'flowOperator', 'flowType', 'flowConstant',
      \ 'flowBoolean', 'flowReentry', 'flowDay', 'flowTool', 'flowPrefix']
let s:texts = ['flowString', 'flowTriple', 'flowTemplateString', 'flowEscape', 'flowAddress',
      \ 'flowZone', 'flowHeaderName', 'flowPath']
let s:numbers = ['flowNumber', 'flowDatetime', 'flowTime', 'flowDuration', 'flowPercent', 'flowPhone']
let s:names = ['', 'flowName', 'flowLabelName', 'flowField', 'flowTemplate']

function! s:Fits(class, group) abort
  if a:class ==# 'keyword'
    return index(s:keywords, a:group) >= 0
  elseif a:class ==# 'name'
    return index(s:names, a:group) >= 0
  elseif a:class ==# 'text'
    return index(s:texts, a:group) >= 0
  elseif a:class ==# 'number'
    return index(s:numbers, a:group) >= 0
  elseif a:class ==# 'comment'
    return a:group ==# 'flowComment'
  elseif a:class ==# 'filter'
    return a:group ==# 'flowFilter'
  endif
  " Operators: `{{`, `}}`, `|`, comparisons, the `.` of `event.FIELD`.
  return index(['flowOperator', 'flowTemplateBrace', 'flowFilter', 'flowField', 'flowTemplate', ''], a:group) >= 0
endfunction

let s:failures = []
for s:row in s:table
  let [s:line, s:start, s:end, s:class; s:text] = split(s:row, ' ')
  for s:column in [str2nr(s:start) + 1, str2nr(s:end)]
    let s:group = synIDattr(synID(str2nr(s:line) + 1, s:column, 1), 'name')
    if !s:Fits(s:class, s:group)
      call add(s:failures, printf('line %d, column %d: `%s` is a %s but gets %s',
            \ s:line + 1, s:column, join(s:text, ' '), s:class, empty(s:group) ? 'no group' : s:group))
      break
    endif
  endfor
endfor

if empty(s:failures)
  enew! | call setline(1, [printf('Vim: all %d tokens of every-construct.flow get the group of their class', len(s:table))]) | %print
  qall!
endif
call add(s:failures, printf('%d of %d tokens get the wrong group', len(s:failures), len(s:table)))
enew! | call setline(1, s:failures) | %print
cquit!
