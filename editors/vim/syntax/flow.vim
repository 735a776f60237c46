" Syntax highlighting for flowc workflow files (.flow).
if exists("b:current_syntax")
  finish
endif

syn case match
" Names may hold hyphens (`opt-in`, `is-vip`): a keyword inside one is not
" a keyword.
syn iskeyword @,48-57,_,-

syn match   flowComment      "#.*$" contains=@Spell
syn keyword flowSection      fields trigger windows steps timezone holidays
syn keyword flowSection      re-entry
syn match   flowSection      "\<look\s\+back\>"
syn match   flowWorkflow     "^\s*workflow\>" nextgroup=flowName skipwhite
syn match   flowEventDecl    "^\s*\(event\|goal\)\>" nextgroup=flowName skipwhite
syn match   flowName         "[A-Za-z_][A-Za-z0-9_-]*" contained
syn match   flowStep         "\<\(send\|call\|notify\|http\|prompt\|wait\|condition\|split\|exit\|until\|next\|for\)\>"
" `on send failure`: after flowStep, so that it wins at `send`.
syn match   flowSection      "\(\<on\s\+\)\@<=send\s\+failure\>"
syn match   flowLabel        "\<\(label\|goto\)\>" nextgroup=flowLabelName skipwhite
syn match   flowLabelName    "[A-Za-z_][A-Za-z0-9_-]*" contained
syn keyword flowBlock        branch variant else end on when file if
syn keyword flowOutcome      missing past
syn match   flowOutcome      "\(\<on\s\+\)\@<=\(event\|timeout\)\>"
syn match   flowOption       "^\s*\(to\|cc\|bcc\|from\|subject\|body\|agent\|message\|header\|timeout\|instructions\|tools\|extract\|transactional\|outside\s\+window\)\>"
syn match   flowOperator     "\<\(hold\s\+up\s\+to\|then\s\+skip\)\>"
syn keyword flowOperator     and or not is set within last in
syn match   flowOperator     "\<\(skip\s\+holidays\|business\s\+days\=\)\>"
syn match   flowOperator     "\<up\s\+to\>"
syn match   flowOperator     "\<up\s\+to\s\+\d\+\s\+times\=\>" contains=flowNumber
syn keyword flowOperator     skip hold then
syn match   flowOperator     "\<contains\>"
syn match   flowOperator     "\<\(one\s\+of\|older\s\+than\|does\s\+not\s\+contain\|starts\s\+with\|ends\s\+with\)\>"
syn match   flowOperator     "\<\(between\|before\|has\|more\s\+than\|fewer\s\+than\|at\s\+least\|at\s\+most\|items\=\)\>"
syn match   flowOperator     "\<window\s\+is\(\s\+not\)\=\s\+open\>"
syn match   flowOperator     ">=\|<=\|>\|<"
syn keyword flowType         optional number bool datetime
syn match   flowType         "\<text\>\(\s*\(\"\|#\|$\|from\>\)\)\@="
syn match   flowType         "\(\<of\s\+\|\<optional\s\+\)\@<=text\>"
syn match   flowType         "\<list\s\+of\>"
" `email` and `text` are channels after `send`, at the start of a window
" line and before `window is`; elsewhere they may be fields (`email is set`).
syn keyword flowConstant     phone slack teams get post put lead rep account
syn match   flowConstant     "\(\<send\s\+\)\@<=\(email\|text\)\>"
syn match   flowConstant     "^\s*\(email\|text\|call\)\>\ze\s\+\(mon\|tue\|wed\|thu\|fri\|sat\|sun\|weekday\|weekend\|every\|\d\)"
syn match   flowConstant     "\<\(email\|text\|call\)\>\ze\s\+window\s\+is\>"
syn match   flowZone         "\(^\s*timezone\s\+\)\@<=\S\+"
syn match   flowHeaderName   "\(^\s*header\s\+\)\@<=[A-Za-z0-9_-]\+"
syn match   flowOperator     "\(\<\(text\|number\|bool\|datetime\)\s\+\)\@<=from\>"
syn match   flowPath         "\(\<\(text\|number\|bool\|datetime\)\s\+from\s\+\)\@<=[A-Za-z0-9_-]\+\(\.[A-Za-z0-9_-]\+\|\[\d\+\]\)*"
syn keyword flowOutcome      answered voicemail failed error
syn match   flowOutcome      "\<no\s\+answer\>"
syn keyword flowBoolean      true false
syn keyword flowReentry      never always after continue fail
syn keyword flowDay          mon tue wed thu fri sat sun weekdays weekends weekday
syn keyword flowDay          monday tuesday wednesday thursday friday saturday sunday
syn match   flowDay          "\<\(mon\|tue\|wed\|thu\|fri\|sat\|sun\)\(day\|sday\|nesday\|rsday\|urday\)\=\s*-\s*\(mon\|tue\|wed\|thu\|fri\|sat\|sun\)\(day\|sday\|nesday\|rsday\|urday\)\=\>"
syn match   flowDay          "\<every\s\+day\>"
syn match   flowTool         "\<\(web\s\+search\|fetch\s\+url\)\>"
syn match   flowNumber       "\(\<\|\W\@<=-\)\d\+\(\.\d\+\)\=\>"
syn match   flowDatetime     "\<\d\{4}-\d\{2}-\d\{2}\(T\d\{2}:\d\{2}\(:\d\{2}\)\=\(Z\|[+-]\d\{2}:\d\{2}\)\=\)\=\>"
syn match   flowTime         "\(\d\)\@<!\d\{1,2}:\d\{2}\d\@!"
syn match   flowDuration     "\<\d\+\s*\(minutes\|minute\|min\|m\|hours\|hour\|h\|days\|day\|d\|weeks\|week\|w\|years\|year\|y\|seconds\|second\|sec\|s\)\>"
syn match   flowPercent      "\<\d\{1,3}%"
syn match   flowPhone        "+\d\{6,15}\>"
syn match   flowAddress      "[A-Za-z0-9._+-]\+@[A-Za-z0-9-]\+\(\.[A-Za-z0-9-]\+\)\+"
" `event.FIELD` and `env.NAME`: the prefix is a word of the language.
syn match   flowPrefix       "\<\(event\|env\)\ze\.[A-Za-z_]"
syn match   flowField        "\(\<\(event\|env\)\.\)\@<=[A-Za-z_][A-Za-z0-9_-]*"

syn match   flowEscape       +\\["\\nt{]+ contained
syn region  flowTemplate     matchgroup=flowTemplateBrace start="{{" end="}}" contained contains=flowFilter,flowTemplateString,flowBoolean,flowNumber,flowPrefix,flowField
syn match   flowFilter       "|\s*[A-Za-z_][A-Za-z0-9_]*" contained
syn region  flowTemplateString start=+"+ skip=+\\"+ end=+"+ contained oneline
syn region  flowTriple       start=+"""+ end=+"""+ contains=flowTemplate,@Spell
syn region  flowString       start=+"\(""\)\@!+ skip=+\\"+ end=+"+ oneline contains=flowEscape,flowTemplate,@Spell

hi def link flowComment        Comment
hi def link flowSection        Structure
hi def link flowWorkflow       Structure
hi def link flowEventDecl      Structure
hi def link flowName           Identifier
" Triple-quoted bodies span lines: a window that starts inside one must
" know it, so highlighting is worked out from the top of the file.
syn sync fromstart

hi def link flowStep           Statement
hi def link flowLabel          Statement
hi def link flowLabelName      Label
hi def link flowBlock          Conditional
hi def link flowOption         Keyword
hi def link flowOperator       Operator
hi def link flowType           Type
hi def link flowConstant       Constant
hi def link flowOutcome        Constant
hi def link flowBoolean        Boolean
hi def link flowReentry        Constant
hi def link flowDay            Constant
hi def link flowTool           Function
hi def link flowDatetime       Number
hi def link flowTime           Number
hi def link flowDuration       Number
hi def link flowNumber         Number
hi def link flowPercent        Number
hi def link flowPhone          Constant
hi def link flowAddress        String
hi def link flowField          Identifier
hi def link flowPrefix         Keyword
hi def link flowZone           String
hi def link flowHeaderName     String
hi def link flowPath           String
hi def link flowString         String
hi def link flowTriple         String
hi def link flowTemplateString String
hi def link flowEscape         SpecialChar
hi def link flowTemplate       Special
hi def link flowTemplateBrace  Delimiter
hi def link flowFilter         Function

let b:current_syntax = "flow"
