" flowc workflow files
autocmd BufRead,BufNewFile *.flow setfiletype flow
