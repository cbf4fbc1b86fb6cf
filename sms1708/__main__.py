from sms1708.cli import main

main()
