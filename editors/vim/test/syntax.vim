" Checks the syntax groups of tokens in a bundled example; run by
" scripts/test-editors as:
"   vim -Nu NONE -es -S editors/vim/test/syntax.vim
" Prints each failure (with :print, on Vim's own stdout: reopening
" /dev/stdout would truncate a log it is redirected to) and exits
" non-zero if there is one.
set runtimepath^=editors/vim
filetype plugin indent on
syntax on
edit examples/inbound-demo-follow-up.flow

let s:failures = []
" [pattern whose match starts the token, expected group]
let s:expected = [
      \ ['^# Inbound', 'flowComment'],
      \ ['^workflow', 'flowWorkflow'],
      \ ['inbound-demo-follow-up$', 'flowName'],
      \ ['timezone', 'flowSection'],
      \ ['never', 'flowReentry'],
      \ ['look back', 'flowSection'],
      \ ['2 years', 'flowDuration'],
      \ ['number "0-100', 'flowType'],
      \ ['"0-100', 'flowString'],
      \ ['optional datetime', 'flowType'],
      \ ['list of', 'flowType'],
      \ ['>= 40', 'flowOperator'],
      \ ['40 and', 'flowNumber'],
      \ ['one of', 'flowOperator'],
      \ ['mon-fri 08', 'flowDay'],
      \ ['08:00', 'flowTime'],
      \ ['lead timezone', 'flowConstant'],
      \ ['send email', 'flowStep'],
      \ ['to lead', 'flowOption'],
      \ ['crm-archive@acme.example', 'flowAddress'],
      \ ['{{ first_name', 'flowTemplateBrace'],
      \ ['| default', 'flowFilter'],
      \ ['"""', 'flowTriple'],
      \ ['wait 2 days', 'flowStep'],
      \ ['+15550100', 'flowPhone'],
      \ ['until weekday', 'flowStep'],
      \ ['weekday 10:00', 'flowDay'],
      \ ['label sdr-call', 'flowLabel'],
      \ ['sdr-call$', 'flowLabelName'],
      \ ['up to 2 times', 'flowOperator'],
      \ ['on answered', 'flowBlock'],
      \ ['answered$', 'flowOutcome'],
      \ ['no answer', 'flowOutcome'],
      \ ['notify slack', 'flowStep'],
      \ ['branch size', 'flowBlock'],
      \ ['else$', 'flowBlock'],
      \ ['exit "small', 'flowStep'],
      \ ['^    end', 'flowBlock'],
      \ ]

for [s:pattern, s:group] in s:expected
  call cursor(1, 1)
  let [s:line, s:column] = searchpos(s:pattern, 'cW')
  if s:line == 0
    call add(s:failures, 'pattern not found: ' . s:pattern)
    continue
  endif
  if s:pattern =~# '^\^    end'
    let s:column += 4
  endif
  let s:names = map(synstack(s:line, s:column), 'synIDattr(v:val, "name")')
  if index(s:names, s:group) < 0
    call add(s:failures, printf('%s at %d:%d: expected %s, got %s', s:pattern, s:line, s:column, s:group, string(s:names)))
  endif
endfor

" The send-failure setting, in the example that has it.
edit examples/enrichment-routing.flow
for [s:pattern, s:group] in [['send failure', 'flowSection'], ['fail$', 'flowReentry']]
  call cursor(1, 1)
  let [s:line, s:column] = searchpos(s:pattern, 'cW')
  let s:names = map(synstack(s:line, s:column), 'synIDattr(v:val, "name")')
  if s:line == 0 || index(s:names, s:group) < 0
    call add(s:failures, printf('%s at %d:%d: expected %s, got %s', s:pattern, s:line, s:column, s:group, string(s:names)))
  endif
endfor

" Indentation: a new line after an opening line goes one level deeper, and
" `end` goes back to its block's level.
enew!
setfiletype flow
call setline(1, ['  steps', '    condition', '      branch a when x is set', '        exit', '      end'])
for [s:lnum, s:want] in [[2, 4], [3, 6], [4, 8], [5, 4]]
  if FlowIndent(s:lnum) != s:want
    call add(s:failures, printf('indent of line %d: expected %d, got %d', s:lnum, s:want, FlowIndent(s:lnum)))
  endif
endfor
" A wait for an event: `on event` and `on timeout` are its cases.
call setline(1, ['    wait for call_ended up to 2 days', '      on event', '        exit', '      on timeout', '    end'])
for [s:line, s:column, s:group] in [[1, 10, 'flowStep'], [2, 10, 'flowOutcome'], [4, 10, 'flowOutcome']]
  let s:names = map(synstack(s:line, s:column), 'synIDattr(v:val, "name")')
  if index(s:names, s:group) < 0
    call add(s:failures, printf('wait for: %d:%d: expected %s, got %s', s:line, s:column, s:group, string(s:names)))
  endif
endfor

" A split: its keywords, its shares, and variants indented like branches.
call setline(1, ['  steps', '    split', '      variant a 50%', '        wait 1 day', '      variant b 50%', '      end'])
for [s:lnum, s:want] in [[2, 4], [3, 6], [4, 8], [5, 6], [6, 4]]
  if FlowIndent(s:lnum) != s:want
    call add(s:failures, printf('split: indent of line %d: expected %d, got %d', s:lnum, s:want, FlowIndent(s:lnum)))
  endif
endfor
for [s:line, s:column, s:group] in [[2, 5, 'flowStep'], [3, 7, 'flowBlock'], [3, 17, 'flowPercent'], [5, 17, 'flowPercent']]
  let s:names = map(synstack(s:line, s:column), 'synIDattr(v:val, "name")')
  if index(s:names, s:group) < 0
    call add(s:failures, printf('split: %d:%d: expected %s, got %s', s:line, s:column, s:group, string(s:names)))
  endif
endfor

if &l:formatexpr !=# 'FlowcFormat()' || &l:commentstring !=# '# %s'
  call add(s:failures, 'ftplugin settings missing')
endif

" Highlighting is worked out from the top: the line after a body's closing
" `"""` is a step again however the window was scrolled.
redir => s:sync
silent syn sync
redir END
if s:sync !~# 'first line'
  call add(s:failures, 'syn sync: ' . trim(s:sync))
endif

" `gq` on part of a file formats the whole file (flowc on the PATH).
enew!
setfiletype flow
call setline(1, ['workflow w', 'trigger when email is set', '  steps', '      wait   1 day'])
normal! 3Ggqj
if getline(1, '$') !=# ['workflow w', '  trigger when email is set', '  steps', '    wait 1 day']
  call add(s:failures, 'gq: ' . string(getline(1, '$')))
endif
" ... and leaves a file with errors as it is, not its error report.
let s:broken = ['workflow w', '  trigger when email is set', '  steps', '    wait 1 dya', '    wait 2 days']
call setline(1, s:broken)
silent! normal! 4Ggqj
if getline(1, '$') !=# s:broken
  call add(s:failures, 'gq on errors: ' . string(getline(1, '$')))
endif

" `:make` gives one quickfix entry per diagnostic, at its place, with its message.
edit! tests/cases/E0101-unknown-field.flow
set shellpipe=>
silent make
let s:entries = filter(getqflist(), 'v:val.valid')
if len(s:entries) != 1 || s:entries[0].lnum != 4 || s:entries[0].col != 16
      \ || s:entries[0].type !=# 'e' || s:entries[0].text !~# 'unknown field `lead_scor`'
  call add(s:failures, ':make: ' . string(getqflist()))
endif

if empty(s:failures)
  qall!
endif
enew! | call setline(1, s:failures) | %print
cquit
