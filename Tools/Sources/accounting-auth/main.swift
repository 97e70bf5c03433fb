import AccountingAuthCommands

await AccountingAuth.main()
